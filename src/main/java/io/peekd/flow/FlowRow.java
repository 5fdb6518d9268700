package io.peekd.flow;

import java.time.Instant;

/**
 * One stored row: a process's traffic on one flow during one write window.
 * Field names follow the stable JSON contract of {@code peekd query --json}.
 *
 * @param time   start of the window (UTC)
 * @param proto  tcp, udp, icmp, icmp6, raw, packet, udplite, mptcp or other
 * @param family 4, 6 or 0 (no IP family, e.g. AF_PACKET)
 * @param domainStatus ok, ambiguous, encrypted or none (null when unknown, e.g. rows from before it existed)
 * @param country      ISO 3166 code of a public remote address, or a label (private, loopback, link-local...)
 * @param asn          autonomous system number of the remote address, or null
 * @param asOrg        its organisation, or null
 */
public record FlowRow(
        Instant time, Identity id, String proto, int family,
        String laddr, int lport, String raddr, int rport,
        String domain, String domainSource, String domainConfidence,
        long sent, long recv, long conns, String domainStatus, String country, Long asn, String asOrg) {

    /** A row without domain status or GeoIP data. */
    public FlowRow(Instant time, Identity id, String proto, int family, String laddr, int lport, String raddr, int rport,
                   String domain, String domainSource, String domainConfidence, long sent, long recv, long conns) {
        this(time, id, proto, family, laddr, lport, raddr, rport, domain, domainSource, domainConfidence, sent, recv,
                conns, null, null, null, null);
    }
}

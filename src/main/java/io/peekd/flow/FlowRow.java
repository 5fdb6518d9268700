package io.peekd.flow;

import java.time.Instant;

/**
 * One stored row: a process's traffic on one flow during one write window.
 * Field names follow the stable JSON contract of {@code peekd query --json}.
 *
 * @param time         start of the window (UTC)
 * @param proto        tcp, udp, icmp, icmp6, raw, packet, udplite, mptcp or other
 * @param family       4, 6 or 0 (no IP family, e.g. AF_PACKET)
 * @param domainStatus ok, ambiguous, encrypted or none (null when unknown, e.g. rows from before it existed)
 * @param country      ISO 3166 code of a public remote address, or a label (private, loopback, link-local...)
 * @param asn          autonomous system number of the remote address, or null
 * @param asOrg        its organisation, or null
 * @param flags        {@link Flag} bits about the executable (NEW_EXE, NEW_HASH, ...)
 */
public record FlowRow(
        Instant time, Identity id, String proto, int family,
        String laddr, int lport, String raddr, int rport,
        String domain, String domainSource, String domainConfidence,
        long sent, long recv, long conns, String domainStatus, String country, Long asn, String asOrg, int flags) {

    /** A row without domain status, GeoIP data or flags. */
    public FlowRow(Instant time, Identity id, String proto, int family, String laddr, int lport, String raddr, int rport,
                   String domain, String domainSource, String domainConfidence, long sent, long recv, long conns) {
        this(time, id, proto, family, laddr, lport, raddr, rport, domain, domainSource, domainConfidence, sent, recv,
                conns, null, null, null, null, 0);
    }

    /** A row with flags but no domain status or GeoIP data. */
    public FlowRow(Instant time, Identity id, String proto, int family, String laddr, int lport, String raddr, int rport,
                   String domain, String domainSource, String domainConfidence, long sent, long recv, long conns,
                   int flags) {
        this(time, id, proto, family, laddr, lport, raddr, rport, domain, domainSource, domainConfidence, sent, recv,
                conns, null, null, null, null, flags);
    }

    /** A row before the executable is judged (flags come later, with the hash). */
    public FlowRow(Instant time, Identity id, String proto, int family, String laddr, int lport, String raddr, int rport,
                   String domain, String domainSource, String domainConfidence, long sent, long recv, long conns,
                   String domainStatus, String country, Long asn, String asOrg) {
        this(time, id, proto, family, laddr, lport, raddr, rport, domain, domainSource, domainConfidence, sent, recv,
                conns, domainStatus, country, asn, asOrg, 0);
    }

    public FlowRow withIdentity(Identity newId, int newFlags) {
        return new FlowRow(time, newId, proto, family, laddr, lport, raddr, rport, domain, domainSource,
                domainConfidence, sent, recv, conns, domainStatus, country, asn, asOrg, newFlags);
    }

    public boolean has(Flag f) {
        return f.in(flags);
    }
}

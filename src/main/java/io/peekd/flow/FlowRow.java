package io.peekd.flow;

import java.time.Instant;

/**
 * One stored row: a process's traffic on one flow during one write window.
 * Field names follow the stable JSON contract of {@code peekd query --json}.
 *
 * @param time   start of the window (UTC)
 * @param proto  tcp, udp, icmp, icmp6, raw, packet, udplite, mptcp or other
 * @param family 4, 6 or 0 (no IP family, e.g. AF_PACKET)
 * @param flags  {@link Flag} bits about the executable (NEW_EXE, NEW_HASH, ...)
 */
public record FlowRow(
        Instant time, Identity id, String proto, int family,
        String laddr, int lport, String raddr, int rport,
        String domain, String domainSource, String domainConfidence,
        long sent, long recv, long conns, int flags) {

    /** A row without flags (most code builds rows before the executable is judged). */
    public FlowRow(Instant time, Identity id, String proto, int family,
                   String laddr, int lport, String raddr, int rport,
                   String domain, String domainSource, String domainConfidence,
                   long sent, long recv, long conns) {
        this(time, id, proto, family, laddr, lport, raddr, rport, domain, domainSource, domainConfidence,
                sent, recv, conns, 0);
    }

    public FlowRow withIdentity(Identity newId, int newFlags) {
        return new FlowRow(time, newId, proto, family, laddr, lport, raddr, rport, domain, domainSource,
                domainConfidence, sent, recv, conns, newFlags);
    }

    public boolean has(Flag f) {
        return f.in(flags);
    }
}

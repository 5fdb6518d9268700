package io.peekd.capture;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * Java mirror of {@code struct peekd_flow_key}: one process instance
 * (tgid + start time + executable generation) talking on one flow.
 * Addresses are kept as raw 16-byte arrays (IPv4 in the first four).
 */
public record FlowKey(int tgid, int uid, long startNs, long exeIno, long exeDev,
                      int family, int proto, int sockType, int lport, int rport,
                      byte[] laddr, byte[] raddr) {

    public static final int AF_INET = 2, AF_INET6 = 10, AF_PACKET = 17;

    public FlowKey {
        laddr = laddr.clone();
        raddr = raddr.clone();
    }

    /** The process instance this flow belongs to. */
    public ProcKey proc() {
        return new ProcKey(tgid, startNs);
    }

    /** 4, 6 or 0, as in the query contract. */
    public int ipVersion() {
        return switch (family) {
            case AF_INET -> 4;
            case AF_INET6 -> 6;
            default -> 0;
        };
    }

    public String protoName() {
        if (family == AF_PACKET) return "packet";
        if (family != AF_INET && family != AF_INET6) return "other";
        return switch (proto) {
            case 6 -> "tcp";
            case 17 -> "udp";
            case 136 -> "udplite";
            case 1 -> sockType == 3 ? "raw" : "icmp";
            case 58 -> sockType == 3 ? "raw" : "icmp6";
            case 262 -> "mptcp";
            default -> sockType == 3 ? "raw" : "other";
        };
    }

    /** The remote address, or null for families without one. */
    public InetAddress remoteInet() {
        try {
            return switch (family) {
                case AF_INET -> InetAddress.getByAddress(Arrays.copyOf(raddr, 4));
                case AF_INET6 -> InetAddress.getByAddress(raddr);
                default -> null;
            };
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    public String localAddress() {
        return format(laddr);
    }

    public String remoteAddress() {
        return format(raddr);
    }

    private String format(byte[] a) {
        try {
            return switch (family) {
                case AF_INET -> InetAddress.getByAddress(Arrays.copyOf(a, 4)).getHostAddress();
                case AF_INET6 -> io.peekd.config.Cidr.text(InetAddress.getByAddress(a));
                default -> "";
            };
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // lengths are fixed above
        }
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof FlowKey k && tgid == k.tgid && uid == k.uid && startNs == k.startNs
                && exeIno == k.exeIno && exeDev == k.exeDev && family == k.family && proto == k.proto
                && sockType == k.sockType && lport == k.lport && rport == k.rport
                && Arrays.equals(laddr, k.laddr) && Arrays.equals(raddr, k.raddr);
    }

    @Override
    public int hashCode() {
        int h = Long.hashCode(startNs) * 31 + tgid;
        h = h * 31 + lport;
        h = h * 31 + rport;
        h = h * 31 + Arrays.hashCode(raddr);
        return h * 31 + proto;
    }

    @Override
    public String toString() {
        return "FlowKey[" + tgid + "@" + startNs + " " + protoName() + " " + localAddress() + ":" + lport
                + " -> " + remoteAddress() + ":" + rport + "]";
    }
}

package io.peekd.domain;

import java.net.Inet4Address;
import java.net.Inet6Address;

/**
 * A host and optional port from an HTTP authority ({@code Host} header, CONNECT target
 * or absolute URI).
 *
 * @param host canonical domain name, dotted IPv4, or IPv6 text without brackets
 *             (in the same format as {@code FlowKey.remoteAddress()})
 * @param port 0..65535, or -1 when none was given
 */
public record HostPort(String host, int port, Kind kind) {

    public enum Kind { NAME, IPV4, IPV6 }

    static final int NO_PORT = -1;

    /**
     * Parses {@code host[:port]} or {@code [v6][:port]}. Never resolves anything: IP
     * literals are parsed as literals only, so hostile input cannot trigger a DNS lookup.
     */
    static HostPort parse(String authority) {
        if (authority.isEmpty()) throw bad("empty authority");
        String hostPart;
        String portPart = null;
        Kind kind;
        String host;
        if (authority.charAt(0) == '[') {
            int close = authority.indexOf(']');
            if (close < 0) throw bad("unclosed '[' in " + DomainNames.quote(authority));
            hostPart = authority.substring(1, close);
            String rest = authority.substring(close + 1);
            if (!rest.isEmpty()) {
                if (rest.charAt(0) != ':') throw bad("junk after ']' in " + DomainNames.quote(authority));
                portPart = rest.substring(1);
            }
            for (int i = 0; i < hostPart.length(); i++) {
                char c = hostPart.charAt(i);
                boolean ok = c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' || c == ':' || c == '.';
                if (!ok) throw bad("not an IPv6 literal (zone ids and IPvFuture are not accepted): " + DomainNames.quote(hostPart));
            }
            try {
                host = io.peekd.config.Cidr.text(Inet6Address.ofLiteral(hostPart));
            } catch (IllegalArgumentException e) {
                throw bad("not an IPv6 literal: " + DomainNames.quote(hostPart));
            }
            kind = Kind.IPV6;
        } else {
            int colon = authority.indexOf(':');
            if (colon >= 0 && authority.indexOf(':', colon + 1) >= 0) {
                throw bad("IPv6 literal without brackets or stray ':' in " + DomainNames.quote(authority));
            }
            hostPart = colon < 0 ? authority : authority.substring(0, colon);
            if (colon >= 0) portPart = authority.substring(colon + 1);
            if (hostPart.isEmpty()) throw bad("empty host in " + DomainNames.quote(authority));
            if (looksLikeIpv4(hostPart)) {
                host = strictIpv4(hostPart);
                kind = Kind.IPV4;
            } else {
                host = DomainNames.canonical(hostPart);
                kind = Kind.NAME;
            }
        }
        return new HostPort(host, port(portPart, authority), kind);
    }

    private static boolean looksLikeIpv4(String s) {
        return s.chars().allMatch(c -> c >= '0' && c <= '9' || c == '.');
    }

    /** Only the four-part decimal form: "0x7f.1" or "010.0.0.1" style tricks are refused. */
    private static String strictIpv4(String s) {
        String[] parts = s.split("\\.", -1);
        if (parts.length != 4) throw bad("not a dotted-quad IPv4 address: " + DomainNames.quote(s));
        for (String p : parts) {
            if (p.isEmpty() || p.length() > 3 || p.length() > 1 && p.charAt(0) == '0' || Integer.parseInt(p) > 255) {
                throw bad("not a dotted-quad IPv4 address: " + DomainNames.quote(s));
            }
        }
        return Inet4Address.ofLiteral(s).getHostAddress();
    }

    private static int port(String p, String authority) {
        if (p == null || p.isEmpty()) return NO_PORT; // "host:" is allowed by the URI grammar
        if (p.length() > 5 || !p.chars().allMatch(c -> c >= '0' && c <= '9')) throw bad("bad port in " + DomainNames.quote(authority));
        int v = Integer.parseInt(p);
        if (v > 65535) throw bad("port " + v + " out of range");
        return v;
    }

    private static Malformed bad(String detail) {
        return new Malformed(RejectReason.BAD_HOST, detail);
    }
}

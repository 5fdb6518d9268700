package io.peekd.config;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.util.Objects;

/**
 * An IPv4 or IPv6 network such as {@code 10.0.0.0/8} or {@code fd00::/8}.
 * The address always has its host bits clear, so two equal networks are equal records.
 */
public record Cidr(InetAddress network, int prefixLength) {

    public Cidr {
        Objects.requireNonNull(network, "network");
        int max = bits(network);
        if (prefixLength < 0 || prefixLength > max) {
            throw new IllegalArgumentException("prefix length must be 0.." + max + ", got " + prefixLength);
        }
        if (!network.equals(mask(network, prefixLength))) {
            throw new IllegalArgumentException(text(network) + " has host bits set for /" + prefixLength);
        }
    }

    /**
     * Parses {@code 10.0.0.0/8}, {@code ::1/128}, or a bare address, which means
     * a single host ({@code /32} or {@code /128}). Never touches DNS.
     *
     * @throws IllegalArgumentException with a message fit to show to a user
     */
    public static Cidr parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty network");
        }
        String t = text.strip();
        int slash = t.indexOf('/');
        String addressText = slash < 0 ? t : t.substring(0, slash);
        if (addressText.indexOf('%') >= 0) {
            throw new IllegalArgumentException("a zone index (%...) has no meaning in a network");
        }
        InetAddress address;
        try {
            // ofLiteral, unlike getByName, never resolves a host name.
            address = InetAddress.ofLiteral(addressText);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("\"" + addressText + "\" is not an IPv4 or IPv6 address");
        }
        if (address instanceof Inet4Address && addressText.indexOf(':') >= 0) {
            // Java turns ::ffff:a.b.c.d into an IPv4 address, so a /96+ prefix would be misread.
            throw new IllegalArgumentException("IPv4-mapped IPv6 addresses are not supported; write the IPv4 network instead, e.g. "
                    + text(address) + "/32");
        }
        int max = bits(address);
        int prefix = max;
        if (slash >= 0) {
            String p = t.substring(slash + 1);
            if (!p.matches("\\d{1,3}")) {
                throw new IllegalArgumentException("prefix length \"" + p + "\" is not a number 0.." + max);
            }
            prefix = Integer.parseInt(p);
            if (prefix > max) {
                throw new IllegalArgumentException("prefix length must be 0.." + max + " for "
                        + (max == 32 ? "IPv4" : "IPv6") + ", got " + prefix);
            }
        }
        InetAddress net = mask(address, prefix);
        if (!net.equals(address)) {
            throw new IllegalArgumentException("host bits are set; did you mean " + text(net) + "/" + prefix + "?");
        }
        return new Cidr(net, prefix);
    }

    /** Whether {@code address} lies in this network; an address of the other family never does. */
    public boolean contains(InetAddress address) {
        return bits(address) == bits(network) && mask(address, prefixLength).equals(network);
    }

    @Override
    public String toString() {
        return text(network) + "/" + prefixLength;
    }

    /**
     * The address in its usual short form ({@code ::1}, not Java's {@code 0:0:0:0:0:0:0:1}),
     * as RFC 5952 recommends, so that it reads the way users wrote it. The one spelling of an
     * address peekd stores, shows and compares: a filter written as {@code raddr = '::1'} matches.
     */
    public static String text(InetAddress a) {
        if (!(a instanceof Inet6Address)) {
            return a.getHostAddress();
        }
        byte[] b = a.getAddress();
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = (b[2 * i] & 0xff) << 8 | b[2 * i + 1] & 0xff;
        }
        // The longest run of two or more zero groups becomes "::"; the first wins a tie.
        int bestStart = -1;
        int bestLen = 1;
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        var sb = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                sb.append("::");
                i += bestLen - 1;
                continue;
            }
            if (!sb.isEmpty() && sb.charAt(sb.length() - 1) != ':') {
                sb.append(':');
            }
            sb.append(Integer.toHexString(g[i]));
        }
        return sb.toString();
    }

    /**
     * {@code text} of an address written in any valid form; anything that is not an address
     * literal comes back unchanged (a database upgrade passes every stored value through this).
     */
    public static String canonical(String address) {
        if (address == null || address.indexOf(':') < 0) return address;
        try {
            return text(InetAddress.ofLiteral(address));
        } catch (IllegalArgumentException e) {
            return address;
        }
    }

    private static int bits(InetAddress a) {
        return switch (a) {
            case Inet4Address _ -> 32;
            case Inet6Address _ -> 128;
            default -> throw new IllegalArgumentException("unknown address family: " + a);
        };
    }

    private static InetAddress mask(InetAddress a, int prefix) {
        byte[] b = a.getAddress();
        for (int i = 0; i < b.length; i++) {
            int keep = Math.clamp(prefix - 8L * i, 0, 8);
            b[i] &= (byte) (0xff00 >> keep);
        }
        try {
            return InetAddress.getByAddress(b);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError("a 4- or 16-byte array is always a valid address", e);
        }
    }
}

package io.peekd.flow;

import java.net.InetAddress;
import java.util.ArrayList;
import io.peekd.domain.DomainSuffixSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The [log] ignore lists: a row matching any of them is not written to the
 * connection log. Ports are ports (picosnitch parsed them as networks),
 * domains match their subdomains, addresses match CIDR blocks.
 */
public final class IgnoreRules {
    private final Set<Integer> ports;
    private final DomainSuffixSet domains;
    private final List<Cidr> networks;
    private final Set<String> sha256;

    record Cidr(byte[] net, int bits) {
        boolean contains(byte[] a) {
            if (a.length != net.length) return false;
            int full = bits / 8, rest = bits % 8;
            for (int i = 0; i < full; i++) if (a[i] != net[i]) return false;
            if (rest == 0) return true;
            int mask = (0xff << (8 - rest)) & 0xff;
            return (a[full] & mask) == (net[full] & mask);
        }

        static Cidr parse(String s) {
            String[] p = s.trim().split("/", 2);
            try {
                byte[] a = InetAddress.ofLiteral(p[0]).getAddress();
                int bits = p.length == 2 ? Integer.parseInt(p[1]) : a.length * 8;
                if (bits < 0 || bits > a.length * 8) throw new IllegalArgumentException("prefix out of range in " + s);
                return new Cidr(a, bits);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not an address or CIDR block: " + s);
            }
        }
    }

    public IgnoreRules(List<Integer> ports, List<String> domains, List<String> cidrs, List<String> sha256) {
        this.ports = Set.copyOf(ports);
        this.domains = DomainSuffixSet.of(domains);
        List<Cidr> nets = new ArrayList<>();
        for (String c : cidrs) nets.add(Cidr.parse(c));
        this.networks = List.copyOf(nets);
        this.sha256 = Set.copyOf(sha256.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList());
    }

    public static IgnoreRules none() {
        return new IgnoreRules(List.of(), List.of(), List.of(), List.of());
    }

    public boolean ignores(FlowRow r) {
        if (ports.contains(r.rport()) || ports.contains(r.lport())) return true;
        if (r.id() != null && r.id().sha256() != null && sha256.contains(r.id().sha256())) return true;
        if (r.domain() != null && matchesDomain(r.domain())) return true;
        if (r.raddr() != null && !r.raddr().isEmpty() && !networks.isEmpty()) {
            try {
                byte[] a = InetAddress.ofLiteral(r.raddr()).getAddress();
                for (Cidr c : networks) if (c.contains(a)) return true;
            } catch (IllegalArgumentException e) {
                return false;
            }
        }
        return false;
    }

    boolean matchesDomain(String domain) {
        return domains.matches(domain);
    }
}

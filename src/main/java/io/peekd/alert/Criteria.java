package io.peekd.alert;

import io.peekd.config.Cidr;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * What a rule asks of a flow. A null field was not given and matches anything; every
 * given field must match. A field given as a list matches when any element does.
 */
record Criteria(Texts exe, Texts processName, Set<String> sha256, Texts parentExe, Texts parentName,
                Set<String> users, IntRanges uids, Texts container, Domains domains, List<Cidr> raddr,
                IntRanges rport, IntRanges lport, Set<String> proto, Set<String> country, Set<Long> asn) {

    static final Criteria ANY = new Criteria(null, null, null, null, null, null, null, null, null, null, null,
            null, null, null, null);

    boolean isEmpty() {
        return equals(ANY);
    }

    boolean needsAddressInfo() {
        return country != null || asn != null;
    }

    boolean matches(FlowRow r, AddressInfo geo) {
        Identity id = r.id();
        if (exe != null && !exe.matches(id == null ? null : id.exe())) return false;
        if (processName != null && !processName.matches(id == null ? null : id.name())) return false;
        if (sha256 != null && (id == null || id.sha256() == null || !sha256.contains(id.sha256().toLowerCase(Locale.ROOT))))
            return false;
        if (parentExe != null || parentName != null) {
            boolean p = parentExe != null && parentExe.matches(id == null ? null : id.pexe())
                    || parentName != null && parentName.matches(id == null ? null : id.pname());
            if (!p) return false;
        }
        if (users != null && (id == null || id.user() == null || !users.contains(id.user()))) return false;
        if (uids != null && (id == null || !uids.contains(id.uid()))) return false;
        if (container != null && !container.matches(id == null ? null : id.container())) return false;
        if (domains != null && !domains.matches(r.domain())) return false;
        if (rport != null && (r.rport() < 0 || !rport.contains(r.rport()))) return false;
        if (lport != null && (r.lport() < 0 || !lport.contains(r.lport()))) return false;
        if (proto != null && (r.proto() == null || !proto.contains(r.proto()))) return false;
        if (raddr != null || country != null || asn != null) {
            InetAddress a = address(r.raddr());
            if (a == null) return false;
            if (raddr != null && raddr.stream().noneMatch(c -> c.contains(a))) return false;
            if (country != null) {
                // The row's own GeoIP (looked up when the traffic moved) first.
                String cc = r.country() != null ? r.country() : geo.country(a);
                if (cc == null || !country.contains(cc.toUpperCase(Locale.ROOT))) return false;
            }
            if (asn != null) {
                Long n = r.asn() != null ? r.asn() : geo.asn(a);
                if (n == null || !asn.contains(n)) return false;
            }
        }
        return true;
    }

    /** A literal address only: a row never carries a name here, and nothing may trigger a DNS lookup. */
    static InetAddress address(String s) {
        if (s == null || s.isEmpty()) return null;
        try {
            return InetAddress.ofLiteral(s);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Exact strings and globs ({@code *} within a path component, {@code **} across, {@code ?}, {@code [...]}). */
    record Texts(Set<String> exact, List<Pattern> globs) {
        boolean matches(String v) {
            if (v == null) return false;
            if (exact.contains(v)) return true;
            for (Pattern p : globs) if (p.matcher(v).matches()) return true;
            return false;
        }

        boolean allExact() {
            return globs.isEmpty();
        }

        static boolean isGlob(String s) {
            return s.indexOf('*') >= 0 || s.indexOf('?') >= 0 || s.indexOf('[') >= 0;
        }

        static Pattern glob(String g) {
            StringBuilder re = new StringBuilder();
            for (int i = 0; i < g.length(); i++) {
                char c = g.charAt(i);
                switch (c) {
                    case '*' -> {
                        if (i + 1 < g.length() && g.charAt(i + 1) == '*') {
                            re.append(".*");
                            i++;
                        } else {
                            re.append("[^/]*");
                        }
                    }
                    case '?' -> re.append("[^/]");
                    case '[' -> {
                        int end = g.indexOf(']', i + 2);
                        if (end < 0) throw new IllegalArgumentException("unclosed [ in glob " + g);
                        String cls = g.substring(i + 1, end);
                        if (cls.startsWith("!")) cls = "^" + cls.substring(1);
                        re.append('[').append(cls.replace("\\", "\\\\").replace("[", "\\[")).append(']');
                        i = end;
                    }
                    default -> re.append(Pattern.quote(String.valueOf(c)));
                }
            }
            return Pattern.compile(re.toString(), Pattern.DOTALL);
        }
    }

    /** Inclusive ranges of integers (ports, uids). */
    record IntRanges(List<long[]> ranges) {
        boolean contains(long v) {
            for (long[] r : ranges) if (v >= r[0] && v <= r[1]) return true;
            return false;
        }

        /** The single values, when every range is one value (indexable), else null. */
        List<Integer> singles() {
            if (ranges.stream().anyMatch(r -> r[0] != r[1])) return null;
            return ranges.stream().map(r -> (int) r[0]).toList();
        }
    }

    /** Domains with their subdomains, as in the ignore lists: "example.com" covers "www.example.com". */
    record Domains(List<String> suffixes) {
        boolean matches(String domain) {
            if (domain == null || domain.isEmpty()) return false;
            String d = normalize(domain);
            for (String s : suffixes) if (d.equals(s) || d.endsWith("." + s)) return true;
            return false;
        }

        static String normalize(String d) {
            String s = d.strip().toLowerCase(Locale.ROOT);
            return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
        }
    }
}

package io.peekd.alert;

import io.peekd.config.Cidr;
import io.peekd.config.Durations;
import java.io.IOException;
import java.io.InputStream;
import java.net.IDN;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseError;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

/**
 * Reads alerts.toml: an array of {@code [[alerts]]} tables. Every problem is collected
 * (with its line, rule and key) before the file is refused, so one edit fixes them all.
 * tomlj is the parser because it knows the line of every key.
 */
final class RulesParser {

    static final int MAX_BYTES = 1 << 20;
    static final int MAX_RULES = 10_000;

    /** Every key a rule may have, in the documented order. */
    static final List<String> KEYS = List.of("name", "description", "enabled",
            "exe", "process_name", "sha256", "parent", "user", "uid", "container", "domain", "raddr", "rport",
            "lport", "proto", "country", "asn",
            "min_bytes_sent", "min_bytes_recv", "window",
            "on_new_exe", "on_new_hash", "on_new_domain", "on_error",
            "action", "exec", "webhook", "webhook_headers", "timeout_seconds", "retries",
            "dedup_seconds", "max_per_hour");

    static final Set<String> PROTOS = Set.of("tcp", "udp", "icmp", "icmp6", "raw", "packet", "udplite", "mptcp", "other");
    static final Set<String> ACTIONS = Set.of("exec", "webhook", "log", "notify");
    private static final Pattern RULE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9 ._:@/+-]{0,99}");
    private static final Pattern LABEL = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?");
    private static final Pattern HEX64 = Pattern.compile("[0-9a-fA-F]{64}");
    private static final Pattern HEADER = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+");
    private static final Set<String> FORBIDDEN_HEADERS = Set.of("connection", "content-length", "expect", "host",
            "upgrade", "content-type");

    private RulesParser() {
    }

    /** Reads and checks {@code file}; a missing file throws {@link java.nio.file.NoSuchFileException}. */
    static RuleSet load(Path file) throws AlertsFileException, IOException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        }
        if (bytes.length > MAX_BYTES)
            throw fileProblem(file, "larger than " + (MAX_BYTES >> 10) + " KiB; this is not an alerts file");
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw fileProblem(file, "not UTF-8 text, which TOML requires");
        }
        return parse(text, file);
    }

    static AlertsFileException fileProblem(Path file, String detail) {
        return new AlertsFileException(List.of(new AlertsFileException.Problem(file, 0, "", "", detail)));
    }

    static RuleSet parse(String text, Path file) throws AlertsFileException {
        TomlParseResult toml;
        try {
            toml = Toml.parse(text);
        } catch (RuntimeException | StackOverflowError e) {
            throw fileProblem(file, "the TOML parser failed: " + e);
        }
        List<AlertsFileException.Problem> problems = new ArrayList<>();
        for (TomlParseError e : toml.errors()) {
            String m = e.getMessage().replaceFirst("\\s*\\(line \\d+, column \\d+\\)$", "");
            TomlPosition p = e.position();
            problems.add(new AlertsFileException.Problem(file, p == null ? 0 : p.line(), "", "",
                    "invalid TOML" + (p == null ? "" : " at column " + p.column()) + ": " + m));
        }
        if (!problems.isEmpty()) throw new AlertsFileException(problems);

        for (String key : toml.keySet()) {
            if (!key.equals("alerts")) {
                problems.add(new AlertsFileException.Problem(file, line(toml.inputPositionOf(List.of(key))), "", key,
                        "unknown key; the file holds only [[alerts]] rules"));
            }
        }
        List<Rule> rules = new ArrayList<>();
        Object top = toml.get(List.of("alerts"));
        if (top != null && !(top instanceof TomlArray a && all(a, TomlTable.class))) {
            problems.add(new AlertsFileException.Problem(file, line(toml.inputPositionOf(List.of("alerts"))), "",
                    "alerts", "expected [[alerts]] tables, got " + describe(top)));
        } else if (top instanceof TomlArray array) {
            if (array.size() > MAX_RULES) {
                problems.add(new AlertsFileException.Problem(file, 0, "", "alerts",
                        array.size() + " rules; at most " + MAX_RULES + " are allowed"));
            } else {
                Map<String, Integer> names = new LinkedHashMap<>();
                for (int i = 0; i < array.size(); i++) {
                    TomlTable t = array.getTable(i);
                    RuleReader r = new RuleReader(file, t, i, line(array.inputPositionOf(i)), problems);
                    Rule rule = r.read();
                    if (rule == null) continue;
                    Integer first = names.putIfAbsent(rule.name(), rule.line());
                    if (first != null) {
                        r.problem("name", "another rule at line " + first + " has this name; names must be unique");
                        continue;
                    }
                    rules.add(rule);
                }
            }
        }
        if (!problems.isEmpty()) throw new AlertsFileException(problems);
        return new RuleSet(rules);
    }

    /** tomlj's containsX() are deprecated since its arrays became heterogeneous; check each element. */
    static boolean all(TomlArray a, Class<?> type) {
        for (int i = 0; i < a.size(); i++) if (!type.isInstance(a.get(i))) return false;
        return true;
    }

    static int line(TomlPosition p) {
        return p == null ? 0 : p.line();
    }

    static String describe(Object v) {
        return switch (v) {
            case null -> "nothing";
            case String s -> quote(s.length() > 60 ? s.substring(0, 57) + "..." : s);
            case TomlArray a -> "an array";
            case TomlTable t -> "a table";
            default -> v.toString();
        };
    }

    static String quote(String s) {
        return "\"" + AlertValues.printable(s).replace("\"", "\\\"") + "\"";
    }

    /** Reads one rule; a bad value is reported and reading goes on, so all problems are found at once. */
    private static final class RuleReader {
        final Path file;
        final TomlTable t;
        final int index;
        final int line;
        final List<AlertsFileException.Problem> problems;
        String label;
        boolean failed;

        RuleReader(Path file, TomlTable t, int index, int line, List<AlertsFileException.Problem> problems) {
            this.file = file;
            this.t = t;
            this.index = index;
            this.line = line;
            this.problems = problems;
            this.label = "alerts[" + index + "]";
        }

        void problem(String key, String detail) {
            failed = true;
            int l = key.isEmpty() ? line : line(t.inputPositionOf(List.of(key)));
            problems.add(new AlertsFileException.Problem(file, l == 0 ? line : l, label, key, detail));
        }

        void expected(String key, String what) {
            problem(key, "expected " + what + ", got " + describe(t.get(List.of(key))));
        }

        Object raw(String key) {
            return t.get(List.of(key));
        }

        Rule read() {
            Object n = raw("name");
            String name = null;
            if (n instanceof String s && RULE_NAME.matcher(s).matches()) {
                name = s;
                label = "rule " + quote(s) + " (alerts[" + index + "])";
            } else if (n == null) {
                problem("", "every rule needs a name = \"...\" (letters, digits, and . _ - : @ / + or spaces)");
            } else {
                expected("name", "a rule name of 1-100 letters, digits, spaces or . _ - : @ / +, starting with a letter or digit");
            }
            for (String key : t.keySet()) {
                if (!KEYS.contains(key)) {
                    String hint = key.equals("comm") || key.equals("process") ? "; the process name is process_name"
                            : KEYS.stream().filter(k -> k.startsWith(key) || key.startsWith(k)).findFirst()
                            .map(k -> "; did you mean " + k + "?").orElse("");
                    problem(key, "unknown key" + hint);
                }
            }
            String description = text("description");
            boolean enabled = bool("enabled", true);

            List<String> parent = strings("parent");
            Criteria c = new Criteria(texts("exe", true), texts("process_name", false), sha256s(),
                    parentTexts(parent, true), parentTexts(parent, false), stringSet("user", null), ranges("uid", 0, 0xFFFF_FFFFL, "a uid"),
                    texts("container", false), domains(), networks(),
                    ranges("rport", 0, 65_535, "a port"), ranges("lport", 0, 65_535, "a port"),
                    stringSet("proto", PROTOS), countries(), asns());

            Rule.Events ev = new Rule.Events(bool("on_new_exe", false), bool("on_new_hash", false),
                    bool("on_new_domain", false), bool("on_error", false));
            long minSent = longIn("min_bytes_sent", 0, Long.MAX_VALUE, 0);
            long minRecv = longIn("min_bytes_recv", 0, Long.MAX_VALUE, 0);
            Duration window = duration("window");
            Rule.Threshold th = new Rule.Threshold(minSent, minRecv, window);

            if (ev.newExe() && ev.newHash())
                problem("on_new_hash", "a row is NEW_EXE (first sight of the path) or NEW_HASH (known path, new hash), never both;"
                        + " make two rules");
            if (ev.error() && (!c.isEmpty() || th.isSet() || ev.newExe() || ev.newHash() || ev.newDomain()))
                problem("on_error", "an on_error rule fires on daemon errors, which have no flow; it cannot also match flow fields,"
                        + " thresholds or other events");
            if (window != null && !th.isSet()) problem("window", "a window only applies with min_bytes_sent or min_bytes_recv");

            List<Rule.Action> actions = actions();
            Duration timeout = Duration.ofSeconds(longIn("timeout_seconds", 1, 3_600, 10));
            int retries = (int) longIn("retries", 0, 10, 3);
            Duration dedup = Duration.ofSeconds(longIn("dedup_seconds", 0, 7L * 86_400, 60));
            int maxPerHour = (int) longIn("max_per_hour", 0, 1_000_000, 60);
            if (failed || name == null) return null;
            return new Rule(name, line, description, enabled, c, ev, th, actions, timeout, retries, dedup, maxPerHour);
        }

        String text(String key) {
            Object v = raw(key);
            if (v == null) return null;
            if (v instanceof String s) return s;
            expected(key, "a string");
            return null;
        }

        boolean bool(String key, boolean dflt) {
            Object v = raw(key);
            if (v == null) return dflt;
            if (v instanceof Boolean b) return b;
            expected(key, "true or false");
            return dflt;
        }

        long longIn(String key, long min, long max, long dflt) {
            Object v = raw(key);
            if (v == null) return dflt;
            if (v instanceof Long l && l >= min && l <= max) return l;
            expected(key, "an integer " + min + ".." + (max == Long.MAX_VALUE ? "" : max));
            return dflt;
        }

        Duration duration(String key) {
            Object v = raw(key);
            if (v == null) return null;
            if (v instanceof String s) {
                try {
                    return Durations.parse(s);
                } catch (IllegalArgumentException e) {
                    problem(key, e.getMessage());
                    return null;
                }
            }
            expected(key, "a duration such as \"10m\"");
            return null;
        }

        /** A string or an array of strings; null when absent or wrong (reported). */
        List<String> strings(String key) {
            Object v = raw(key);
            if (v == null) return null;
            if (v instanceof String s) return List.of(s);
            if (v instanceof TomlArray a && !a.isEmpty() && all(a, String.class)) {
                List<String> out = new ArrayList<>();
                for (int i = 0; i < a.size(); i++) out.add(a.getString(i));
                return out;
            }
            expected(key, "a string or a non-empty array of strings");
            return null;
        }

        Criteria.Texts texts(String key, boolean path) {
            List<String> vs = strings(key);
            if (vs == null) return null;
            Set<String> exact = new LinkedHashSet<>();
            List<Pattern> globs = new ArrayList<>();
            for (String v : vs) {
                if (v.isEmpty()) {
                    problem(key, "empty string");
                    continue;
                }
                if (path && !v.startsWith("/") && !v.startsWith("*")) {
                    problem(key, quote(v) + " is not an absolute path (or a glob such as \"/usr/bin/*\" or \"**/curl\")");
                    continue;
                }
                if (Criteria.Texts.isGlob(v)) {
                    try {
                        globs.add(Criteria.Texts.glob(v));
                    } catch (IllegalArgumentException e) {
                        problem(key, "bad glob " + quote(v) + ": " + e.getMessage());
                    }
                } else {
                    exact.add(v);
                }
            }
            return new Criteria.Texts(Set.copyOf(exact), List.copyOf(globs));
        }

        /** parent: a value with a '/' is the parent's executable path, otherwise its process name. */
        Criteria.Texts parentTexts(List<String> vs, boolean paths) {
            if (vs == null) return null;
            Set<String> exact = new LinkedHashSet<>();
            List<Pattern> globs = new ArrayList<>();
            for (String v : vs) {
                if (v.isEmpty() || v.contains("/") != paths) continue;
                if (Criteria.Texts.isGlob(v)) {
                    try {
                        globs.add(Criteria.Texts.glob(v));
                    } catch (IllegalArgumentException e) {
                        problem("parent", "bad glob " + quote(v) + ": " + e.getMessage());
                    }
                } else {
                    exact.add(v);
                }
            }
            if (exact.isEmpty() && globs.isEmpty()) return null;
            return new Criteria.Texts(Set.copyOf(exact), List.copyOf(globs));
        }

        Set<String> sha256s() {
            List<String> vs = strings("sha256");
            if (vs == null) return null;
            Set<String> out = new HashSet<>();
            for (String v : vs) {
                if (HEX64.matcher(v.strip()).matches()) out.add(v.strip().toLowerCase(Locale.ROOT));
                else problem("sha256", quote(v) + " is not a sha256 (64 hex digits)");
            }
            return Set.copyOf(out);
        }

        Set<String> stringSet(String key, Set<String> allowed) {
            List<String> vs = strings(key);
            if (vs == null) return null;
            Set<String> out = new HashSet<>();
            for (String v : vs) {
                String s = allowed == null ? v : v.toLowerCase(Locale.ROOT);
                if (allowed != null && !allowed.contains(s))
                    problem(key, quote(v) + " is not one of " + String.join(", ", new java.util.TreeSet<>(allowed)));
                else out.add(s);
            }
            return Set.copyOf(out);
        }

        Set<String> countries() {
            List<String> vs = strings("country");
            if (vs == null) return null;
            Set<String> out = new HashSet<>();
            for (String v : vs) {
                if (v.matches("[A-Za-z]{2}")) out.add(v.toUpperCase(Locale.ROOT));
                else problem("country", quote(v) + " is not a two-letter country code such as \"DE\"");
            }
            return Set.copyOf(out);
        }

        Set<Long> asns() {
            Object v = raw("asn");
            if (v == null) return null;
            List<Object> items = v instanceof TomlArray a && !a.isEmpty() ? a.toList() : List.of(v);
            Set<Long> out = new HashSet<>();
            for (Object o : items) {
                Long n = o instanceof Long l ? l
                        : o instanceof String s && s.matches("(?i)(AS)?\\d{1,10}") ? Long.parseLong(s.replaceFirst("(?i)^AS", "")) : null;
                if (n == null || n < 0 || n > 0xFFFF_FFFFL) {
                    problem("asn", "expected an AS number such as 13335 or \"AS13335\", got " + describe(o));
                } else {
                    out.add(n);
                }
            }
            return Set.copyOf(out);
        }

        Criteria.IntRanges ranges(String key, long min, long max, String what) {
            Object v = raw(key);
            if (v == null) return null;
            List<Object> items = v instanceof TomlArray a && !a.isEmpty() ? a.toList() : List.of(v);
            List<long[]> out = new ArrayList<>();
            for (Object o : items) {
                long[] r = null;
                if (o instanceof Long l) r = new long[] {l, l};
                else if (o instanceof String s && s.strip().matches("\\d{1,10}\\s*-\\s*\\d{1,10}")) {
                    String[] p = s.strip().split("\\s*-\\s*");
                    r = new long[] {Long.parseLong(p[0]), Long.parseLong(p[1])};
                } else if (o instanceof String s && s.strip().matches("\\d{1,10}")) {
                    long x = Long.parseLong(s.strip());
                    r = new long[] {x, x};
                }
                if (r == null || r[0] < min || r[1] > max || r[0] > r[1]) {
                    problem(key, "expected " + what + " " + min + ".." + max + " or a range such as \""
                            + (max == 65_535 ? "8000-8100" : "1000-1999") + "\" (or an array of them), got " + describe(o));
                } else {
                    out.add(r);
                }
            }
            return new Criteria.IntRanges(List.copyOf(out));
        }

        Criteria.Domains domains() {
            List<String> vs = strings("domain");
            if (vs == null) return null;
            List<String> out = new ArrayList<>();
            for (String v : vs) {
                String d = Criteria.Domains.normalize(v);
                if (d.startsWith("*.")) {
                    problem("domain", "a domain already covers its subdomains; write " + quote(d.substring(2)) + " instead");
                    continue;
                }
                try {
                    d = IDN.toASCII(d, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
                } catch (IllegalArgumentException e) {
                    problem("domain", quote(v) + " is not a valid domain name");
                    continue;
                }
                boolean ok = !d.isEmpty() && d.length() <= 253;
                for (String label : d.split("\\.", -1)) ok &= LABEL.matcher(label).matches();
                if (ok) out.add(d);
                else problem("domain", quote(v) + " is not a valid domain name");
            }
            return new Criteria.Domains(List.copyOf(out));
        }

        List<Cidr> networks() {
            List<String> vs = strings("raddr");
            if (vs == null) return null;
            List<Cidr> out = new ArrayList<>();
            for (String v : vs) {
                try {
                    out.add(Cidr.parse(v));
                } catch (IllegalArgumentException e) {
                    problem("raddr", quote(v) + ": " + e.getMessage());
                }
            }
            return List.copyOf(out);
        }

        List<Rule.Action> actions() {
            List<String> kinds;
            if (raw("action") == null) {
                // Infer from what is configured, as the seed's examples read naturally either way.
                kinds = new ArrayList<>();
                if (raw("exec") != null) kinds.add("exec");
                if (raw("webhook") != null) kinds.add("webhook");
                if (kinds.isEmpty()) kinds.add("log");
            } else {
                kinds = strings("action");
                if (kinds == null) return List.of();
            }
            List<Rule.Action> out = new ArrayList<>();
            Set<String> seen = new HashSet<>();
            for (String k : kinds) {
                String kind = k.toLowerCase(Locale.ROOT);
                if (!ACTIONS.contains(kind)) {
                    problem("action", quote(k) + " is not an action; actions are exec, webhook, log and notify");
                    continue;
                }
                if (!seen.add(kind)) continue;
                switch (kind) {
                    case "exec" -> {
                        Template tpl = command();
                        if (tpl != null) out.add(new Rule.Action.Exec(tpl));
                    }
                    case "webhook" -> {
                        URI url = webhookUrl();
                        if (url != null) out.add(new Rule.Action.Webhook(url, headers()));
                    }
                    case "log" -> out.add(new Rule.Action.Log());
                    default -> out.add(new Rule.Action.Notify());
                }
            }
            if (raw("exec") != null && !seen.contains("exec"))
                problem("exec", "exec is set but action does not include \"exec\"");
            if (raw("webhook") != null && !seen.contains("webhook"))
                problem("webhook", "webhook is set but action does not include \"webhook\"");
            if (raw("webhook_headers") != null && !seen.contains("webhook"))
                problem("webhook_headers", "webhook_headers without a webhook");
            return List.copyOf(out);
        }

        Template command() {
            Object v = raw("exec");
            try {
                if (v instanceof String s) return Template.parse(s);
                if (v instanceof TomlArray a && !a.isEmpty() && all(a, String.class)) {
                    List<String> words = new ArrayList<>();
                    for (int i = 0; i < a.size(); i++) words.add(a.getString(i));
                    return Template.of(words);
                }
                if (v == null) problem("", "action \"exec\" needs exec = \"program args...\" (or an array of words)");
                else expected("exec", "a command string or an array of words");
            } catch (Template.Invalid e) {
                problem("exec", e.getMessage());
            }
            return null;
        }

        URI webhookUrl() {
            Object v = raw("webhook");
            if (v == null) {
                problem("", "action \"webhook\" needs webhook = \"http://...\"");
                return null;
            }
            if (!(v instanceof String s)) {
                expected("webhook", "a URL string");
                return null;
            }
            try {
                URI u = new URI(s);
                String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
                if (!scheme.equals("http") && !scheme.equals("https") || u.getHost() == null) {
                    problem("webhook", quote(s) + " is not an http:// or https:// URL with a host");
                    return null;
                }
                return u;
            } catch (URISyntaxException e) {
                problem("webhook", quote(s) + " is not a URL: " + e.getReason());
                return null;
            }
        }

        Map<String, String> headers() {
            Object v = raw("webhook_headers");
            if (v == null) return Map.of();
            if (!(v instanceof TomlTable h)) {
                expected("webhook_headers", "a table such as { Authorization = \"Bearer ...\" }");
                return Map.of();
            }
            Map<String, String> out = new TreeMap<>();
            for (String k : h.keySet()) {
                Object hv = h.get(List.of(k));
                if (!HEADER.matcher(k).matches() || FORBIDDEN_HEADERS.contains(k.toLowerCase(Locale.ROOT))) {
                    problem("webhook_headers", quote(k) + " is not a header peekd can set");
                } else if (!(hv instanceof String s) || s.chars().anyMatch(c -> c == '\r' || c == '\n' || c == 0)) {
                    problem("webhook_headers", k + ": expected a one-line string, got " + describe(hv));
                } else {
                    out.put(k, s);
                }
            }
            return Map.copyOf(out);
        }
    }
}

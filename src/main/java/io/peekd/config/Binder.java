package io.peekd.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peekd.config.ConfigException.Kind;
import io.peekd.config.ConfigException.Problem;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.OptionalLong;
import java.util.SequencedMap;
import java.util.SequencedSet;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Maps a parsed TOML tree onto {@link Config}. This is the one place that knows
 * each key's TOML name, type and range; the defaults come from {@link Config#defaults()}.
 */
final class Binder {

    private final ObjectNode root;
    private final Path file;
    private final KeyIndex index;
    private final List<Problem> problems = new ArrayList<>();
    private final SequencedMap<String, Section> sections = new LinkedHashMap<>();

    Binder(ObjectNode root, Path file, KeyIndex index) {
        this.root = root;
        this.file = file;
        this.index = index;
    }

    KeyIndex index() {
        return index;
    }

    /** Every section and key that the config has, in file order, found by binding an empty file. */
    static SequencedMap<String, SequencedSet<String>> schema() {
        var b = new Binder(JsonNodeFactory.instance.objectNode(), Path.of("schema"), KeyIndex.of(""));
        b.bind();
        var out = new LinkedHashMap<String, SequencedSet<String>>();
        b.sections.forEach((name, s) -> out.put(name, s.known()));
        return out;
    }

    /** The config, and problems, which the caller must check before using the config. */
    Config bind() {
        Config d = Config.defaults();

        var paths = section("paths", s -> new Config.Paths(
                s.get("data_dir", d.paths().dataDir(), Conv.absolutePath()),
                s.get("run_dir", d.paths().runDir(), Conv.absolutePath()),
                s.get("log_dir", d.paths().logDir(), Conv.absolutePath())));

        var db = d.database();
        var database = section("database", s -> new Config.Database(
                s.get("enabled", db.enabled(), Conv.bool()),
                s.get("retention_days", db.retentionDays(), Conv.intIn(1, 36_500)),
                s.get("write_limit_seconds", db.writeLimitSeconds(), Conv.intIn(1, 3_600)),
                s.get("text_log", db.textLog(), Conv.bool()),
                s.get("log_addresses", db.logAddresses(), Conv.bool()),
                s.get("log_ports", db.logPorts(), Conv.bool()),
                s.get("log_commands", db.logCommands(), Conv.bool())));

        var monitoring = section("monitoring", s -> new Config.Monitoring(
                s.get("every_exe", d.monitoring().everyExe(), Conv.bool())));

        var cap = d.capture();
        var capture = section("capture", s -> new Config.Capture(
                s.get("flow_map_entries", cap.flowMapEntries(), Conv.intIn(1_024, 16 * 1024 * 1024)),
                s.get("ring_buffer_kib", cap.ringBufferKib(), Conv.powerOfTwo(64, 262_144)),
                s.get("drain_interval_ms", cap.drainIntervalMs(), Conv.intIn(100, 60_000))));

        var lg = d.log();
        var log = section("log", s -> new Config.Log(
                s.list("ignore_ports", lg.ignorePorts(), Conv.intIn(0, 65_535)),
                s.list("ignore_domains", lg.ignoreDomains(), Conv.domain()),
                s.list("ignore_ips", lg.ignoreIps(), Conv.cidr()),
                s.list("ignore_sha256", lg.ignoreSha256(), Conv.sha256()),
                s.get("level", lg.level(), Conv.oneOf(Config.Log.Level.class))));

        var metrics = section("metrics", s -> new Config.Metrics(
                s.get("interval_seconds", d.metrics().intervalSeconds(), Conv.intIn(1, 86_400)),
                s.get("prometheus_port", d.metrics().prometheusPort(), Conv.intIn(0, 65_535))));

        var broadcast = section("broadcast", s -> new Config.Broadcast(
                s.get("channel_capacity", d.broadcast().channelCapacity(), Conv.intIn(1, 10_000_000))));

        var desktop = section("desktop", s -> new Config.Desktop(
                s.get("user", d.desktop().user(), Conv.userName()),
                s.get("notifications", d.desktop().notifications(), Conv.bool()),
                s.get("bus_address", d.desktop().busAddress(), Conv.busAddress())));

        var w = d.web();
        var web = section("web", s -> new Config.Web(
                s.get("enabled", w.enabled(), Conv.bool()),
                s.get("port", w.port(), Conv.intIn(1, 65_535)),
                s.get("bind", w.bind(), Conv.ipAddress()),
                s.get("refresh_seconds", w.refreshSeconds(), Conv.intIn(1, 86_400)),
                s.get("default_since", w.defaultSince(), Conv.duration()),
                s.get("top_limit", w.topLimit(), Conv.intIn(1, 1_000_000)),
                s.list("allowed_hosts", w.allowedHosts(), Conv.domain()),
                s.optional("geoip_db", Conv.absolutePath()).or(w::geoipDb)));

        var id = d.identity();
        var identity = section("identity", s -> new Config.Identity(
                // The kernel's dev_t is 32 bits, so a wider mask can only be a mistake.
                s.optional("st_dev_mask", Conv.longIn(0, 0xFFFF_FFFFL, "0..0xffffffff"))
                        .map(OptionalLong::of).orElse(id.stDevMask()),
                s.get("fd_cache_size", id.fdCacheSize(), Conv.intIn(1, 1 << 20)),
                s.get("hash_threads", id.hashThreads(), Conv.intIn(1, 64))));

        var vt = d.virustotal();
        var virustotal = section("virustotal", s -> new Config.VirusTotal(
                s.get("api_key", vt.apiKey(), Conv.token()),
                s.get("file_upload", vt.fileUpload(), Conv.bool()),
                s.get("request_limit_seconds", vt.requestLimitSeconds(), Conv.intIn(1, 86_400)),
                s.get("base_url", vt.baseUrl(), Conv.httpUrl())));

        var g = d.geoip();
        var geoip = section("geoip", s -> new Config.GeoIp(
                s.get("enabled", g.enabled(), Conv.bool()),
                s.get("country_db", g.countryDb(), Conv.absolutePath()),
                s.get("asn_db", g.asnDb(), Conv.absolutePath())));
        var al = d.alerts();
        var alerts = section("alerts", s -> new Config.Alerts(
                s.get("file", al.file(), Conv.absolutePath()),
                s.get("action_threads", al.actionThreads(), Conv.intIn(1, 64)),
                s.get("action_queue", al.actionQueue(), Conv.intIn(1, 100_000))));

        if (web.enabled() && metrics.prometheusPort() == web.port()) {
            report(Kind.BAD_VALUE, List.of("metrics", "prometheus_port"), -1,
                    metrics.prometheusPort() + " is already the web dashboard's port (web.port); pick another, or 0 for none");
        }
        reportUnknown();
        return new Config(paths, database, monitoring, capture, log, metrics, broadcast, desktop, web, identity,
                virustotal, geoip, alerts);
    }

    /** Problems in file order; those without a line come last. */
    List<Problem> problems() {
        return problems.stream()
                .sorted(Comparator.comparingInt((Problem p) -> p.line() == 0 ? Integer.MAX_VALUE : p.line()))
                .toList();
    }

    void report(Kind kind, List<String> path, int element, String detail) {
        String key = display(path) + (element >= 0 ? "[" + element + "]" : "");
        problems.add(new Problem(kind, file, key, index.line(path), detail));
    }

    private <T> T section(String name, Function<Section, T> read) {
        JsonNode n = root.get(name);
        ObjectNode table = null;
        if (n instanceof ObjectNode o) {
            table = o;
        } else if (n != null) {
            String hint = name.equals("alerts") && n.isArray()
                    ? "; [[alerts]] rules belong in the file named by alerts.file (default /etc/peekd/alerts.toml), not here" : "";
            report(Kind.WRONG_TYPE, List.of(name), -1, "expected a table [" + name + "], got " + describe(n) + hint);
        }
        var s = new Section(name, table, this);
        sections.put(name, s);
        return read.apply(s);
    }

    private void reportUnknown() {
        for (var e : root.properties()) {
            String name = e.getKey();
            JsonNode value = e.getValue();
            Section s = sections.get(name);
            if (s != null) {
                if (value instanceof ObjectNode table) {
                    for (var it = table.fieldNames(); it.hasNext(); ) {
                        String key = it.next();
                        if (!s.known().contains(key)) {
                            report(Kind.UNKNOWN_KEY, List.of(name, key), -1,
                                    "unknown key \"" + key + "\" in [" + name + "]" + hint(name, key));
                        }
                    }
                }
            } else if (value.isObject() || value.isArray() && !value.isEmpty() && value.get(0).isObject()) {
                String suggestion = Suggest.nearest(name, sections.keySet()).map(x -> "; did you mean [" + x + "]?")
                        .orElse("; sections are " + String.join(", ", sections.keySet()));
                report(Kind.UNKNOWN_SECTION, List.of(name), -1, "unknown section [" + name + "]" + suggestion);
            } else {
                report(Kind.UNKNOWN_KEY, List.of(name), -1, "\"" + name + "\" is outside any section" + hint(null, name));
            }
        }
    }

    // Either a near spelling in the same section, or the same key in the section where it belongs.
    private String hint(String section, String key) {
        if (section != null) {
            var near = Suggest.nearest(key, sections.get(section).known());
            if (near.isPresent()) {
                return "; did you mean " + near.get() + "?";
            }
        }
        List<String> homes = sections.values().stream()
                .filter(s -> !s.name().equals(section) && s.known().contains(key))
                .map(s -> s.name() + "." + key)
                .toList();
        return homes.isEmpty() ? "" : "; did you mean " + String.join(" or ", homes) + "?";
    }

    private static final Pattern BARE = Pattern.compile("[A-Za-z0-9_-]+");

    static String display(List<String> path) {
        return path.stream().map(p -> BARE.matcher(p).matches() ? p : quote(p)).collect(Collectors.joining("."));
    }

    /** A value as a user would recognise it in the file. */
    static String describe(JsonNode n) {
        if (n.isTextual()) {
            String t = n.textValue();
            return quote(t.length() > 60 ? t.substring(0, 57) + "..." : t);
        }
        if (n.isArray()) {
            return "an array";
        }
        if (n.isObject()) {
            return "a table";
        }
        return n.asText();
    }

    private static String quote(String s) {
        var sb = new StringBuilder("\"");
        s.codePoints().forEach(c -> {
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (Character.isISOControl(c)) {
                        sb.append(String.format("\\u%04X", c));
                    } else {
                        sb.appendCodePoint(c);
                    }
                }
            }
        });
        return sb.append('"').toString();
    }
}

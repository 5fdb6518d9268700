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
                s.get("run_dir", d.paths().runDir(), Conv.runDir()),
                s.get("log_dir", d.paths().logDir(), Conv.absolutePath())));

        var db = d.database();
        var database = section("database", s -> {
            boolean enabled = s.get("enabled", db.enabled(), Conv.bool());
            int retention = s.get("retention_days", db.retentionDays(), Conv.intIn(1, 36_500));
            int writeLimit = s.get("write_limit_seconds", db.writeLimitSeconds(), Conv.intIn(1, 3_600));
            boolean textLog = s.get("text_log", db.textLog(), Conv.bool());
            boolean addresses = s.get("log_addresses", db.logAddresses(), Conv.bool());
            boolean ports = s.get("log_ports", db.logPorts(), Conv.bool());
            boolean commands = s.get("log_commands", db.logCommands(), Conv.bool());
            int minute = s.get("rollup_minute_days", db.rollupMinuteDays(), Conv.intIn(1, 36_500));
            int hour = s.get("rollup_hour_days", db.rollupHourDays(), Conv.intIn(1, 36_500));
            int day = s.get("rollup_day_days", db.rollupDayDays(), Conv.intIn(1, 36_500));
            var interval = s.get("maintenance_interval", db.maintenanceInterval(), Conv.duration());
            String group = s.get("reader_group", db.readerGroup(), Conv.groupName());
            var sv = db.server();
            var server = subsection("database", "server", t -> new Config.Database.Server(
                    t.get("type", sv.type(), Conv.choice("", "postgresql", "mariadb", "mysql")),
                    t.get("host", sv.host(), Conv.token()),
                    t.get("port", sv.port(), Conv.intIn(0, 65_535)),
                    t.get("database", sv.database(), Conv.sqlName()),
                    t.get("user", sv.user(), Conv.token()),
                    t.get("password", sv.password(), Conv.string()),
                    t.optional("credentials_file", Conv.absolutePath()).orElse(sv.credentialsFile()),
                    t.get("table", sv.table(), Conv.sqlName()),
                    t.get("host_label", sv.hostLabel(), Conv.string()),
                    t.get("batch_rows", sv.batchRows(), Conv.intIn(1, 100_000))));
            // A coarser table must keep at least as long as the finer one, or a range it no longer
            // has could not be answered by anything.
            if (minute < retention) {
                report(Kind.BAD_VALUE, written("rollup_minute_days", "retention_days"), -1, "rollup_minute_days = "
                        + minute + " keeps minute rollups shorter than the raw windows (retention_days = " + retention + ")");
            } else if (hour < minute) {
                report(Kind.BAD_VALUE, written("rollup_hour_days", "rollup_minute_days"), -1, "rollup_hour_days = "
                        + hour + " keeps hour rollups shorter than minute rollups (rollup_minute_days = " + minute + ")");
            } else if (day < hour) {
                report(Kind.BAD_VALUE, written("rollup_day_days", "rollup_hour_days"), -1, "rollup_day_days = "
                        + day + " keeps day rollups shorter than hour rollups (rollup_hour_days = " + hour + ")");
            }
            if (interval.compareTo(java.time.Duration.ofMinutes(1)) < 0 || interval.compareTo(java.time.Duration.ofDays(1)) > 0) {
                report(Kind.OUT_OF_RANGE, List.of("database", "maintenance_interval"), -1,
                        "expected a duration from 1m to 1d, got " + Durations.format(interval));
            }
            if (server.enabled() && !enabled) {
                report(Kind.BAD_VALUE, List.of("database", "server", "type"), -1, "the mirror sends what the local"
                        + " database stores, through a queue kept in it; it needs database.enabled = true");
            }
            return new Config.Database(enabled, retention, writeLimit, textLog, addresses, ports, commands, minute, hour,
                    day, interval, group, server);
        });

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
                s.optional("geoip_db", Conv.absolutePath()).or(w::geoipDb),
                s.get("reverse_dns", w.reverseDns(), Conv.bool())));

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

    /** The first of two [database] keys that the file really has, so that a problem between them gets a line. */
    private List<String> written(String key, String other) {
        List<String> k = List.of("database", key);
        return index.line(k) > 0 || index.line(List.of("database", other)) == 0 ? k : List.of("database", other);
    }

    /** A table inside a section's table, such as {@code [database.server]}. */
    private <T> T subsection(String parent, String name, Function<Section, T> read) {
        JsonNode p = root.get(parent);
        JsonNode n = p instanceof ObjectNode o ? o.get(name) : null;
        ObjectNode table = null;
        if (n instanceof ObjectNode o) {
            table = o;
        } else if (n != null) {
            report(Kind.WRONG_TYPE, List.of(parent, name), -1, "expected a table [" + parent + "." + name + "], got "
                    + describe(n));
        }
        var s = new Section(List.of(parent, name), table, this);
        sections.put(parent + "." + name, s);
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
                        Section sub = sections.get(name + "." + key);
                        if (sub != null) {
                            if (table.get(key) instanceof ObjectNode subTable) {
                                for (var kt = subTable.fieldNames(); kt.hasNext(); ) {
                                    String k2 = kt.next();
                                    if (!sub.known().contains(k2)) {
                                        report(Kind.UNKNOWN_KEY, List.of(name, key, k2), -1, "unknown key \"" + k2
                                                + "\" in [" + sub.name() + "]" + hint(sub.name(), k2));
                                    }
                                }
                            }
                        } else if (!s.known().contains(key)) {
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

package io.peekd.it;

import io.peekd.testkit.Tgen;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.capture.Kernel;
import io.peekd.cli.Main;
import io.peekd.config.ConfigLoader;
import io.peekd.daemon.Daemon;
import io.peekd.daemon.DaemonSettings;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A real daemon, in this JVM, with its own config, data, run and log dirs.
 * Results are read back through the real CLI ({@code peekd query --json}).
 */
final class DaemonHarness implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    final Path dir;
    final Path config;
    private final Daemon daemon;

    private DaemonHarness(Path dir, Path config, Daemon daemon) {
        this.dir = dir;
        this.config = config;
        this.daemon = daemon;
    }

    static DaemonHarness start() throws Exception {
        return launch(null, "", java.util.Map.of(), 1, "");
    }

    /** As {@link #start()}, with more config appended (sections the default file does not have). */
    static DaemonHarness start(String extraToml) throws Exception {
        return launch(null, extraToml, java.util.Map.of());
    }

    /** A daemon whose alerts.toml (in its own dir, never /etc/peekd) holds {@code alertRules}. */
    static DaemonHarness withAlertRules(String alertRules) throws Exception {
        return launch(alertRules, "", java.util.Map.of());
    }

    /**
     * A daemon whose config has extra lines per section, e.g.
     * {@code Map.of("monitoring", "every_exe = true")}; sections the base config
     * lacks are added.
     */
    static DaemonHarness start(java.util.Map<String, String> extra) throws Exception {
        return launch(null, "", extra);
    }

    /** With windows of {@code writeLimitSeconds} and more {@code [database]} keys (TOML lines). */
    static DaemonHarness start(int writeLimitSeconds, String databaseKeys) throws Exception {
        return launch(null, "", java.util.Map.of(), writeLimitSeconds, databaseKeys);
    }

    private static DaemonHarness launch(String alertRules, String extraToml, java.util.Map<String, String> extra)
            throws Exception {
        return launch(alertRules, extraToml, extra, 1, "");
    }

    private static DaemonHarness launch(String alertRules, String extraToml, java.util.Map<String, String> extra,
                                        int writeLimitSeconds, String databaseKeys) throws Exception {
        Kernel.require();
        Path base = Tgen.testDir();
        Path dir = Files.createTempDirectory(base, "daemon-");
        Path config = dir.resolve("config.toml");
        String toml = """
                [paths]
                data_dir = "%s/data"
                run_dir = "%s/run"
                log_dir = "%s/log"

                [database]
                write_limit_seconds = %d
                %s

                [capture]
                drain_interval_ms = 200

                [log]
                ignore_ports = []
                ignore_domains = []
                ignore_ips = []

                [alerts]
                file = "%s/alerts.toml"
                """.formatted(dir, dir, dir, writeLimitSeconds, databaseKeys, dir);
        StringBuilder added = new StringBuilder();
        for (var e : new java.util.TreeMap<>(extra).entrySet()) {
            String header = "[" + e.getKey() + "]\n";
            for (String line : e.getValue().strip().split("\n")) {
                String key = line.substring(0, line.indexOf('=')).strip();
                // A key the base config sets (only once in it) is replaced; others are added to the section.
                var existing = java.util.regex.Pattern.compile("(?m)^" + java.util.regex.Pattern.quote(key) + " = .*$");
                if (toml.contains(header) && existing.matcher(toml).find())
                    toml = existing.matcher(toml).replaceFirst(java.util.regex.Matcher.quoteReplacement(line));
                else if (toml.contains(header)) toml = toml.replace(header, header + line + "\n");
                else if (added.indexOf(header) >= 0) added.insert(added.indexOf(header) + header.length(), line + "\n");
                else added.append('\n').append(header).append(line).append('\n');
            }
        }
        Files.writeString(config, toml + added + extraToml);
        if (alertRules != null) Files.writeString(dir.resolve("alerts.toml"), alertRules);
        Daemon d = Daemon.start(DaemonSettings.from(ConfigLoader.load(config)));
        return new DaemonHarness(dir, config, d);
    }

    /** Runs a peekd command against this instance; returns stdout, fails on a non-zero exit. */
    String cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        List<String> argv = new ArrayList<>(List.of(args));
        argv.add(1, "--config");
        argv.add(2, config.toString());
        int rc = Main.run(new PrintWriter(out), new PrintWriter(err), argv.toArray(String[]::new));
        if (rc != 0) throw new AssertionError("peekd " + argv + " exited " + rc + ": " + err);
        return out.toString();
    }

    /** Rows through the daemon's socket, the open window included. */
    List<JsonNode> liveRows(Path exe) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        JSON.readTree(cli("query", "--json", "--since", "1h", "--exe", exe.toString())).forEach(out::add);
        return out;
    }

    /** Waits (bounded) until the live totals of an executable reach sent/recv, then returns them. */
    long[] awaitLiveTotals(Path exe, long sent, long recv) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        long[] t = totals(liveRows(exe));
        while ((t[0] < sent || t[1] < recv) && System.nanoTime() < deadline) {
            Thread.sleep(250);
            t = totals(liveRows(exe));
        }
        return t;
    }

    /** Rows of {@code peekd query --json --exe EXE}. */
    List<JsonNode> rows(Path exe) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        // Stored rows: tests check what was judged and written, not the open window.
        JSON.readTree(cli("query", "--json", "--stored", "--since", "1h", "--exe", exe.toString())).forEach(out::add);
        return out;
    }

    /**
     * Waits (bounded) until the stored rows of an executable satisfy the
     * condition, and returns the last rows read either way: the caller asserts.
     */
    List<JsonNode> awaitRows(Path exe, Predicate<List<JsonNode>> done) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        List<JsonNode> rows = rows(exe);
        while (!done.test(rows) && System.nanoTime() < deadline) {
            Thread.sleep(250);
            rows = rows(exe);
        }
        return rows;
    }

    /** Totals over rows: [sent, recv, conns]. */
    static long[] totals(List<JsonNode> rows) {
        long[] t = new long[3];
        for (JsonNode r : rows) {
            t[0] += r.get("sent").asLong();
            t[1] += r.get("recv").asLong();
            t[2] += r.get("conns").asLong();
        }
        return t;
    }

    /** Waits until an exe's stored totals reach the expected sent/recv, then returns them. */
    long[] awaitTotals(Path exe, long sent, long recv) throws Exception {
        return totals(awaitRows(exe, rows -> {
            long[] t = totals(rows);
            return t[0] >= sent && t[1] >= recv && !rows.isEmpty();
        }));
    }

    Daemon daemon() {
        return daemon;
    }

    @Override
    public void close() {
        daemon.close();
    }
}

package io.peekd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peekd.alert.AlertEngine;
import io.peekd.alert.AlertService;
import io.peekd.alert.AlertsFileException;
import io.peekd.bpf.Libc;
import io.peekd.config.Config;
import io.peekd.config.Durations;
import io.peekd.store.AlertRecord;
import io.peekd.store.Reader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "alerts", mixinStandardHelpOptions = true,
        description = {"Check, list and reload alert rules, and read the alerts that fired.",
                "Rules live in the [alerts] file (default /etc/peekd/alerts.toml).",
                "Their syntax is in docs/alerts.md."},
        subcommands = {AlertsCommand.Test.class, AlertsCommand.ListRules.class, AlertsCommand.Reload.class,
                AlertsCommand.Log.class, CommandLine.HelpCommand.class})
final class AlertsCommand implements Callable<Integer> {
    static final ObjectMapper JSON = new ObjectMapper();

    /** Also here, so that `peekd alerts --config X log` works as well as `peekd alerts log --config X`. */
    @Mixin
    ConfigOption config;
    private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return 2;
    }


    static String local(Instant t) {
        return t == null ? "-" : LOCAL.format(t.atZone(ZoneId.systemDefault()));
    }

    /** The daemon's alerts.json, or null when no live daemon wrote it. */
    static JsonNode liveStatus(Config c) throws IOException {
        Path f = c.paths().runDir().resolve("alerts.json");
        if (!Files.isReadable(f)) return null;
        JsonNode m = JSON.readTree(f.toFile());
        long pid = m.path("pid").asLong(-1);
        var ph = ProcessHandle.of(pid);
        if (ph.isEmpty() || !ph.get().isAlive()) return null;
        String start = m.path("process_start").asText(null);
        String actual = ph.get().info().startInstant().map(Instant::toString).orElse(null);
        if (start != null && actual != null && !start.equals(actual)) return null; // the pid was reused
        return m;
    }

    static void printRules(PrintWriter out, List<AlertEngine.RuleStatus> rules, boolean counts) {
        Table t = counts ? new Table("RULE", "LINE", "MATCHES", "ACTIONS", "FIRED", "SUPPRESSED", "FAILED", "LAST FIRED", "LAST RESULT")
                : new Table("RULE", "LINE", "MATCHES", "ACTIONS");
        for (var r : rules) {
            String name = r.name() + (r.enabled() ? "" : " (disabled)");
            if (counts)
                t.row(name, String.valueOf(r.line()), r.match(), r.actions(), String.valueOf(r.fired()),
                        (r.suppressedDedup() + r.suppressedRate()) + (r.suppressedRate() > 0 ? " (" + r.suppressedRate() + " by rate)" : ""),
                        String.valueOf(r.failed() + r.dropped()), local(r.lastFired()), r.lastResult());
            else t.row(name, String.valueOf(r.line()), r.match(), r.actions());
        }
        t.print(out);
    }

    @Command(name = "test", mixinStandardHelpOptions = true,
            description = {"Check an alerts file without a daemon, and show its rules.",
                    "Exit code 0 when it would load, 2 with every problem listed (rule, key and line).",
                    "Example: peekd alerts test /etc/peekd/alerts.toml"})
    static final class Test extends Subcommand {

        @Parameters(paramLabel = "FILE", arity = "0..1",
                description = "The rules file to check (default: [alerts] file of the config).")
        Path file;

        @Override
        public Integer call() {
            Path f = file != null ? file : loadConfig().alerts().file();
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            try {
                var rules = AlertService.check(f);
                out.println(f + ": " + rules.size() + (rules.size() == 1 ? " rule" : " rules") + ", no problems");
                if (!rules.isEmpty()) printRules(out, rules, false);
                return 0;
            } catch (AlertsFileException e) {
                err.println(e.getMessage());
                err.println(f + ": " + e.problems().size() + (e.problems().size() == 1 ? " problem" : " problems")
                        + "; a daemon would refuse this file and keep its current rules");
                return 2;
            } catch (NoSuchFileException e) {
                err.println(f + ": no such file");
                return 2;
            } catch (IOException e) {
                err.println(f + ": cannot read: " + e.getMessage());
                return 2;
            }
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = {"Show the daemon's active alert rules and how often each fired.",
                    "Also counts the alerts that dedup_seconds and max_per_hour suppressed.",
                    "Without a running daemon, shows the rules of the file."})
    static final class ListRules extends Subcommand {

        @Option(names = "--json", description = "Print the daemon's alerts.json (rules, counters, last reload).")
        boolean json;

        @Override
        public Integer call() throws IOException {
            Config c = loadConfig();
            PrintWriter out = spec.commandLine().getOut();
            JsonNode live = liveStatus(c);
            if (json) {
                if (live != null) out.println(live.toPrettyString());
                else out.println("{\"running\":false}");
                return live == null ? 3 : 0;
            }
            if (live == null) {
                Path f = c.alerts().file();
                out.println("peekd is not running; the rules of " + f + ":");
                try {
                    printRules(out, AlertService.check(f), false);
                } catch (NoSuchFileException e) {
                    out.println("(no such file: no rules)");
                } catch (AlertsFileException e) {
                    out.println(e.getMessage());
                }
                return 3;
            }
            JsonNode lr = live.path("last_reload");
            out.printf("rules of %s, reloaded at %s (%s)%n", live.path("file").asText(),
                    local(lr.hasNonNull("at") ? Instant.parse(lr.path("at").asText()) : null), lr.path("trigger").asText("-"));
            if (!lr.path("ok").asBoolean(true)) {
                out.println("the last reload was REFUSED; these rules stay active. Problems:");
                lr.path("problems").forEach(p -> out.println("  " + p.asText()));
            }
            List<AlertEngine.RuleStatus> rules = new java.util.ArrayList<>();
            for (JsonNode r : live.path("rules")) {
                rules.add(new AlertEngine.RuleStatus(r.path("name").asText(), r.path("line").asInt(),
                        r.path("enabled").asBoolean(), r.path("match").asText(), r.path("actions").asText(),
                        r.path("fired").asLong(), r.path("suppressed_dedup").asLong(), r.path("suppressed_rate").asLong(),
                        r.path("failed").asLong(), r.path("dropped").asLong(),
                        r.hasNonNull("last_fired") ? Instant.parse(r.path("last_fired").asText()) : null,
                        r.path("last_result").asText(null)));
            }
            if (rules.isEmpty()) out.println("no rules are active");
            else printRules(out, rules, true);
            return 0;
        }
    }

    @Command(name = "reload", mixinStandardHelpOptions = true,
            description = {"Make the running daemon read its alert rules again (as SIGHUP does), and show the result.",
                    "The file is checked first; a file with problems is not sent, and the daemon keeps its rules."})
    static final class Reload extends Subcommand {

        @Override
        public Integer call() throws Exception {
            Config c = loadConfig();
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            Path f = c.alerts().file();
            try {
                AlertService.check(f);
            } catch (AlertsFileException e) {
                err.println(e.getMessage());
                err.println("not reloading: fix " + f + " first; the daemon keeps its current rules");
                return 2;
            } catch (NoSuchFileException e) {
                // A missing file is valid: it means no rules.
            }
            JsonNode live = liveStatus(c);
            if (live == null) {
                err.println("peekd is not running (no live " + c.paths().runDir().resolve("alerts.json") + "); nothing to reload");
                return 3;
            }
            if (!live.path("sighup").asBoolean()) {
                err.println("the daemon (pid " + live.path("pid").asLong() + ") cannot take SIGHUP; restart it to load the rules");
                return 1;
            }
            long gen = live.path("generation").asLong();
            Libc.kill(live.path("pid").asLong(), Libc.SIGHUP);
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (System.nanoTime() < deadline) {
                Thread.sleep(100);
                JsonNode now = liveStatus(c);
                if (now == null) break;
                if (now.path("generation").asLong() > gen) {
                    JsonNode lr = now.path("last_reload");
                    if (lr.path("ok").asBoolean()) {
                        out.println("reloaded: " + lr.path("rules").asInt() + " rules active");
                        return 0;
                    }
                    err.println("the daemon refused the file; its previous rules stay active:");
                    lr.path("problems").forEach(p -> err.println("  " + p.asText()));
                    return 2;
                }
            }
            err.println("sent SIGHUP to pid " + live.path("pid").asLong() + " but saw no reload within 10 s; see the daemon's log");
            return 1;
        }
    }

    @Command(name = "log", mixinStandardHelpOptions = true,
            description = {"List fired alerts: rule, time, the matched flow and what the actions did.",
                    "Example: peekd alerts log --since 1d --json"})
    static final class Log extends Subcommand {

        @Option(names = "--since", paramLabel = "AGE", defaultValue = "1d",
                description = "How far back to look: 30s, 15m, 1h, 1d, 2w... (default: ${DEFAULT-VALUE}).")
        String since;

        @Option(names = "--rule", paramLabel = "NAME", description = "Only alerts of this rule.")
        String rule;

        @Option(names = "--limit", paramLabel = "N", defaultValue = "0", description = "Only the newest N alerts (0: all).")
        int limit;

        @Option(names = "--json", description = "Print a JSON array; each alert carries the matched row as \"flow\".")
        boolean json;

        @Override
        public Integer call() throws IOException {
            Config c = loadConfig();
            Instant from;
            try {
                from = Instant.now().minus(Durations.parse(since));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--since: " + e.getMessage());
            }
            if (limit < 0) throw new CommandLine.ParameterException(spec.commandLine(), "--limit must be 0 or more");
            PrintWriter out = spec.commandLine().getOut();
            if (!Files.exists(c.paths().db())) {
                out.println(json ? "[]" : "no alerts: " + c.paths().db() + " does not exist (is the daemon running?)");
                return 0;
            }
            List<AlertRecord> alerts;
            try (Reader r = Reader.open(c.paths().db())) {
                alerts = r.alerts(from, rule, limit);
            }
            if (json) {
                out.println(toJson(alerts).toString());
            } else {
                Table t = new Table("TIME (" + ZoneId.systemDefault().getId() + ")", "RULE", "EVENT", "EXE", "REMOTE", "DOMAIN",
                        "RESULT", "SUPPRESSED");
                for (AlertRecord a : alerts) {
                    String remote = a.raddr() == null ? "-" : a.raddr() + (a.rport() == null ? "" : ":" + a.rport());
                    t.row(local(a.time()), a.rule(), a.event(), a.exe() != null ? a.exe() : a.message(), remote,
                            a.domain(), a.result(), String.valueOf(a.suppressed()));
                }
                t.print(out);
                out.println(alerts.size() + " alerts");
            }
            out.flush();
            return 0;
        }

        static ArrayNode toJson(List<AlertRecord> alerts) throws IOException {
            ArrayNode arr = JSON.createArrayNode();
            for (AlertRecord a : alerts) {
                ObjectNode o = arr.addObject();
                o.put("time", a.time().toString());
                o.put("rule", a.rule());
                o.put("event", a.event());
                o.put("actions", a.actions());
                o.put("result", a.result());
                o.put("detail", a.detail());
                o.put("suppressed", a.suppressed());
                o.put("exe", a.exe());
                o.put("domain", a.domain());
                o.put("raddr", a.raddr());
                if (a.rport() == null) o.putNull("rport");
                else o.put("rport", a.rport());
                o.put("message", a.message());
                o.put("finished", a.finished() == null ? null : a.finished().toString());
                o.set("flow", a.flowJson() == null ? null : JSON.readTree(a.flowJson()));
            }
            return arr;
        }
    }
}

package io.peekd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.peekd.config.Config;
import io.peekd.json.Trees;
import io.peekd.rpc.RpcClient;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "status", mixinStandardHelpOptions = true,
        description = {"Show whether the daemon runs and whether it loses anything.",
                "Prints its uptime, hook set, the flows it tracks, every kind of capture loss",
                "and the database size. Exit code 3 when it is not running."})
final class StatusCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Option(names = "--json", description = "Print the daemon's full metrics snapshot as JSON.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Config c = config.load();
        PrintWriter out = spec.commandLine().getOut();
        Path metrics = c.paths().metrics();
        JsonNode m = live(c.paths().socket());
        if (m == null && Files.isReadable(metrics)) {
            try {
                m = Trees.parse(Files.readAllBytes(metrics));
            } catch (com.fasterxml.jackson.core.JacksonException e) {
                // The daemon replaces the file atomically, so a broken one was not written by it.
                throw new IllegalStateException("cannot read " + metrics + ": not the daemon's metrics ("
                        + e.getOriginalMessage() + "); remove it, the daemon rewrites it every [metrics] interval_seconds");
            }
            long pid = m.path("pid").asLong(-1);
            if (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) == Boolean.FALSE) m = null;
        }
        if (json) {
            out.println(m == null ? "{\"running\":false}" : Trees.pretty(m));
            return m == null ? 3 : 0;
        }
        if (m == null) {
            out.println("peekd is not running (no live metrics at " + metrics + ")");
            printDb(out, c.paths().db());
            return 3;
        }
        JsonNode cap = m.path("capture");
        // The snapshot is rewritten every [metrics] interval_seconds: the uptime is computed now,
        // and the counters below say how old they are.
        Instant now = Instant.now();
        Duration up = Duration.ofSeconds(m.path("uptime_seconds").asLong());
        String age = "";
        try {
            up = Duration.between(Instant.parse(m.path("started").asText()), now);
            Duration old = Duration.between(Instant.parse(m.path("written").asText()), now);
            if (old.toSeconds() >= 1) age = " (counters below as of " + human(old) + " ago)";
        } catch (java.time.format.DateTimeParseException e) {
            // an older daemon's snapshot: its own uptime figure
        }
        out.printf("peekd is running: pid %d, up %s%s%n", m.path("pid").asLong(), human(up.isNegative() ? Duration.ZERO : up),
                age);
        out.printf("hook set:     %s%n", m.path("hook_set").asText());
        out.printf("flows:        %d tracked in the kernel, %d evicted%n", m.path("flows_tracked").asLong(),
                m.path("flows_evicted").asLong());
        out.printf("fast path:    %s%n", cap.path("slots").asLong() == 0 ? "off (every call on the hash-map path; exact, slower)"
                : cap.path("slotsInUse").asLong() + " of " + cap.path("slots").asLong() + " socket slots in use, "
                + cap.path("slotMisses").asLong() + " calls found none free");
        out.printf("events:       %d ring records, %d execs, %d sends, %d receives%n", cap.path("ringEvents").asLong(),
                cap.path("execs").asLong(), cap.path("sendCalls").asLong(), cap.path("recvCalls").asLong());
        long losses = m.path("losses_total").asLong();
        out.printf("losses:       %s%n", losses == 0 ? "none"
                : losses + " (ring exec " + cap.path("ringDropExec").asLong() + ", ring flow " + cap.path("ringDropFlow").asLong()
                + ", ring other " + cap.path("ringDropOther").asLong() + ", map full " + cap.path("mapFull").asLong()
                + ", socket state " + cap.path("skStorageFail").asLong() + ", undecodable " + cap.path("ringUndecodable").asLong()
                + ") - see " + c.paths().errorLog());
        printDb(out, c.paths().db());
        JsonNode mirror = m.path("storeops").path("mirror");
        if (mirror.isObject()) {
            out.printf("mirror:       %s %s, %d rows sent%s%n", mirror.path("type").asText(), mirror.path("server").asText(),
                    mirror.path("rows_sent").asLong(), mirror.path("failing").asBoolean()
                            ? ", FAILING: " + mirror.path("last_error").asText() + " (rows wait in the outbox)" : "");
        }
        return 0;
    }

    /**
     * The running daemon's metrics as of now, over its socket; null when no daemon answers
     * within two seconds (then metrics.json, rewritten every interval, has to do). A daemon
     * that hangs must not hang the command that is meant to show it.
     */
    private static JsonNode live(Path socket) {
        if (!Files.exists(socket)) return null;
        var answer = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> RpcClient.connect(socket).map(rpc -> rpc.op("metrics").path("metrics")).orElse(null),
                r -> Thread.ofVirtual().start(r));
        try {
            JsonNode m = answer.get(2, java.util.concurrent.TimeUnit.SECONDS);
            return m != null && m.isObject() ? m : null;
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            answer.cancel(true);
            return null; // an older daemon without the op, a refused peer, or a stuck one
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static void printDb(PrintWriter out, Path db) throws IOException {
        if (!Files.exists(db)) {
            out.printf("database:     %s (not created yet)%n", db);
            return;
        }
        long size = Files.size(db);
        Path wal = db.resolveSibling(db.getFileName() + "-wal");
        if (Files.exists(wal)) size += Files.size(wal);
        out.printf("database:     %s, %s%n", db, Units.bytes(size));
    }

    static String human(Duration d) {
        long s = d.toSeconds();
        if (s < 60) return s + "s";
        if (s < 3600) return s / 60 + "m " + s % 60 + "s";
        if (s < 86400) return s / 3600 + "h " + s % 3600 / 60 + "m";
        return s / 86400 + "d " + s % 86400 / 3600 + "h";
    }
}

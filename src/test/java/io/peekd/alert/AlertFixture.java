package io.peekd.alert;

import io.peekd.flow.FlowRow;
import io.peekd.store.AlertRecord;
import io.peekd.store.Reader;
import io.peekd.store.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.function.ToIntFunction;

/**
 * An alert service on a real SQLite store in a temporary directory, with the rules file
 * given, and the error lines it reports collected.
 */
final class AlertFixture implements AutoCloseable {
    final Path dir;
    final Path rules;
    final Store store;
    final AlertService service;
    final List<String> errors;

    private AlertFixture(Path dir, Path rules, Store store, AlertService service, List<String> errors) {
        this.dir = dir;
        this.rules = rules;
        this.store = store;
        this.service = service;
        this.errors = errors;
    }

    static AlertFixture start(Path dir, String toml) throws Exception {
        return start(dir, toml, false, false, AlertEngine.NO_FLAGS, (u, n, r) -> { });
    }

    static AlertFixture start(Path dir, String toml, boolean watch, boolean hangup, ToIntFunction<FlowRow> flags,
                              WebhookSender.Attempts attempts) throws Exception {
        Path rules = dir.resolve("alerts.toml");
        if (toml != null) Files.writeString(rules, toml);
        Store store = Store.open(dir.resolve("data/peekd.db"));
        List<String> errors = new CopyOnWriteArrayList<>();
        var opts = new AlertService.Options(rules, dir.resolve("run/alerts.json"),
                new AlertEngine.Settings(4, 1_000, 100, Duration.ofMillis(200)), watch, hangup);
        AlertService s = AlertService.start(opts, AlertService.sink(store.writer()), errors::add, null, AddressInfo.NONE,
                flags, attempts);
        return new AlertFixture(dir, rules, store, s, errors);
    }

    void batch(FlowRow... rows) {
        service.onBatch(AlertRows.T0, List.of(rows));
    }

    /** The alert log as stored, read through a real read-only reader. */
    List<AlertRecord> log() throws Exception {
        store.writer().flush(Duration.ofSeconds(10));
        try (Reader r = Reader.open(store.file())) {
            return r.alerts(null, null, 0);
        }
    }

    /** Waits (bounded) until the log satisfies {@code done}; returns it either way, the caller asserts. */
    List<AlertRecord> awaitLog(Predicate<List<AlertRecord>> done) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<AlertRecord> log = log();
        while (!done.test(log) && System.nanoTime() < deadline) {
            Thread.sleep(100);
            log = log();
        }
        return log;
    }

    /** Waits until {@code n} alerts are stored with their final result. */
    List<AlertRecord> awaitFinished(int n) throws Exception {
        return awaitLog(l -> l.size() >= n && l.stream().noneMatch(a -> a.result().equals("pending")));
    }

    /** A script that records its argv and environment, NUL-separated, into {@code <out>.argv} and {@code <out>.env}. */
    static Path recorder(Path dir) throws Exception {
        Path script = dir.resolve("record.sh");
        Files.writeString(script, """
                #!/bin/sh
                out="$1"; shift
                printf '%s\\0' "$@" > "$out.argv.tmp"
                env -0 > "$out.env.tmp"
                mv "$out.env.tmp" "$out.env"
                mv "$out.argv.tmp" "$out.argv"
                """);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        return script;
    }

    static List<String> nulSeparated(Path f) throws Exception {
        String s = Files.readString(f);
        if (s.endsWith("\0")) s = s.substring(0, s.length() - 1);
        return List.of(s.split("\0", -1));
    }

    @Override
    public void close() {
        service.close();
        store.close();
    }
}

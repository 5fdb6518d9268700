package io.peekd.store;

import static io.peekd.store.Rows.T0;
import static io.peekd.store.Rows.T1;
import static io.peekd.store.Rows.curl;
import static io.peekd.store.Rows.tcp;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;

/** A real full filesystem: a small tmpfs mounted by the test, filled, then freed. */
class FullDiskTest {

    @TempDir
    Path dir;

    private static boolean required() {
        return "1".equals(System.getenv("PEEKD_REQUIRE_BPF")) || "1".equals(System.getProperty("peekd.require.bpf"));
    }

    private static int run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        if (p.exitValue() != 0) {
            System.err.println(String.join(" ", cmd) + ": " + out.strip());
        }
        return p.exitValue();
    }

    /** The key of a stored row: everything but the counters. */
    private static FlowRow key(FlowRow r) {
        return new FlowRow(r.time(), r.id(), r.proto(), r.family(), r.laddr(), r.lport(), r.raddr(), r.rport(),
                r.domain(), r.domainSource(), r.domainConfidence(), 0, 0, 0);
    }

    private static void add(Map<FlowRow, long[]> sums, List<FlowRow> batch) {
        for (FlowRow r : batch) {
            long[] s = sums.computeIfAbsent(key(r), k -> new long[3]);
            s[0] += r.sent();
            s[1] += r.recv();
            s[2] += r.conns();
        }
    }

    /** Fills the filesystem: big writes first, then ever smaller ones, until nothing fits. */
    private static void fill(Path filler, long fsBytes) throws IOException {
        try (FileChannel ch = FileChannel.open(filler, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
            for (int chunk : new int[] {65536, 4096, 512, 1}) {
                ByteBuffer buf = ByteBuffer.allocate(chunk);
                for (long i = 0; i <= fsBytes / chunk + 1; i++) {
                    buf.clear();
                    try {
                        ch.write(buf);
                    } catch (IOException full) {
                        break;
                    }
                }
            }
        }
    }

    @Test
    void commitsFailOnAFullDiskAndEveryByteArrivesOnceThereIsRoom() throws Exception {
        // Load the native driver first, from a normal directory: a library mapped from the
        // tmpfs would keep it from being unmounted.
        Store.open(dir.resolve("warm/peekd.db")).close();

        Path mnt = Files.createDirectory(dir.resolve("mnt"));
        long fsBytes = 2L << 20;
        int mounted = run("mount", "-t", "tmpfs", "-o", "size=" + fsBytes + ",mode=0700", "peekd-test-full", mnt.toString());
        if (mounted != 0) {
            if (required()) {
                fail("cannot mount a tmpfs for the full-disk test (PEEKD_REQUIRE_BPF=1)");
            }
            assumeTrue(false, "cannot mount a tmpfs here");
        }
        List<String> errorLog = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.SEVERE.intValue()) {
                    errorLog.add(r.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger writerLog = Logger.getLogger(Writer.class.getName());
        writerLog.addHandler(capture);
        Store store = null;
        try {
            Path db = mnt.resolve("peekd.db");
            Store.Options quick = new Store.Options(64, Duration.ofSeconds(2), Duration.ofSeconds(2),
                    Duration.ofMillis(20), Duration.ofMillis(200), Duration.ofSeconds(30));
            store = Store.open(db, quick);
            Writer w = store.writer();
            Map<FlowRow, long[]> expected = new HashMap<>();

            List<FlowRow> a = List.of(tcp(T0, curl(7), 5000, 10, 20, 1), tcp(T0, curl(8), 5000, 1, 2, 1));
            assertThat(w.submit(a)).isTrue();
            assertThat(w.flush(Duration.ofSeconds(60))).isTrue();
            add(expected, a);

            Path filler = mnt.resolve("filler");
            fill(filler, fsBytes);

            // Many new processes and flows: the commit needs fresh pages that are not there.
            List<FlowRow> b = new ArrayList<>();
            for (int i = 0; i < 400; i++) {
                Identity id = new Identity("/opt/app" + i, "app" + i, "app --instance " + i, null, 1000 + i,
                        "/usr/lib/systemd/systemd", "systemd", "/sbin/init", null, 1, 0, "root", null, null);
                b.add(tcp(T0, id, 10_000 + i, 1000 + i, 2000 + i, 1));
            }
            b.add(tcp(T0, curl(7), 5000, 5, 5, 0)); // merges with a row of A
            assertThat(w.submit(b)).isTrue();
            add(expected, b);

            // Let it retry a few times, with backoff, before making room.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (w.stats().consecutiveFailures() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            WriterStats failing = w.stats();
            assertThat(failing.failing()).as("commit on a full disk must fail").isTrue();
            assertThat(failing.consecutiveFailures()).isGreaterThanOrEqualTo(3);
            assertThat(errorLog).as("one error in the log, not one per retry").hasSize(1);
            assertThat(errorLog.getFirst()).contains("401 rows").containsIgnoringCase("full");
            assertThat(failing.lastError()).containsIgnoringCase("full");
            assertThat(failing.lastErrorAt()).isNotNull();

            // Queues behind the failed batch, and merges with it once stored.
            List<FlowRow> c = List.of(tcp(T0, curl(7), 5000, 7, 7, 1), tcp(T1, curl(7), 5000, 3, 4, 1),
                    b.getFirst());
            assertThat(w.submit(c)).isTrue();
            add(expected, c);
            assertThat(w.stats().pendingBatches()).isEqualTo(2);
            assertThat(w.stats().pendingRows()).isEqualTo(b.size() + c.size());
            try (Reader r = Reader.open(db)) {
                // Nothing of B is visible: a failed batch is all or nothing.
                assertThat(r.query(Query.all())).containsExactlyInAnyOrderElementsOf(a);
            }

            Files.delete(filler);
            assertThat(w.flush(Duration.ofSeconds(60))).as("stored once there is room").isTrue();

            WriterStats after = w.stats();
            assertThat(after.failing()).isFalse();
            assertThat(after.failedAttempts()).isPositive();
            assertThat(after.batchesWritten()).isEqualTo(3);
            assertThat(after.rowsWritten()).isEqualTo(a.size() + b.size() + c.size());
            assertThat(after.pendingBatches()).isZero();
            assertThat(after.pendingRows()).isZero();
            assertThat(after.lastError()).as("kept for status after recovery").isEqualTo(failing.lastError());

            try (Reader r = Reader.open(db)) {
                Map<FlowRow, long[]> stored = new HashMap<>();
                add(stored, r.query(Query.all()));
                assertThat(stored.keySet()).isEqualTo(expected.keySet());
                for (var e : expected.entrySet()) {
                    assertThat(stored.get(e.getKey())).as(e.getKey().toString()).containsExactly(e.getValue());
                }
                long sent = expected.values().stream().mapToLong(v -> v[0]).sum();
                assertThat(r.sumBytes(Query.all()).stream().mapToLong(Totals::sent).sum()).isEqualTo(sent);
                assertThat(r.stats().idents()).as("curl, once for both pids, and the apps").isEqualTo(1 + 400);
            }
            store.close();
            store = null;
        } finally {
            writerLog.removeHandler(capture);
            if (store != null) {
                store.close();
            }
            if (run("umount", mnt.toString()) != 0) {
                run("umount", "-l", mnt.toString());
            }
        }
    }
}

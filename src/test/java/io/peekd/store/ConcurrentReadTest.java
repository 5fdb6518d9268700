package io.peekd.store;

import static io.peekd.store.Rows.T0;
import static io.peekd.store.Rows.curl;
import static io.peekd.store.Rows.tcp;
import static io.peekd.store.Rows.wget;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.peekd.flow.FlowRow;

class ConcurrentReadTest {

    @TempDir
    Path dir;

    /**
     * Every batch moves exactly 100 bytes sent. A reader that ever sees a total that is not
     * a multiple of 100 has seen half a transaction; one that sees it shrink has seen time
     * run backwards.
     */
    @Test
    void readersSeeWholeBatchesWhileTheWriterCommits() throws Exception {
        int batches = 300;
        Path db = dir.resolve("peekd.db");
        ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        AtomicBoolean writerDone = new AtomicBoolean();
        AtomicInteger reads = new AtomicInteger();
        AtomicInteger readsDuringWrites = new AtomicInteger();
        try (Store store = Store.open(db)) {
            Thread reader = Thread.ofPlatform().name("test-reader").start(() -> {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
                long previous = 0;
                try (Reader r = Reader.open(db)) {
                    // Bounded in count and time; runs until the writer is done and one last read.
                    for (int i = 0; i < 100_000 && System.nanoTime() < deadline; i++) {
                        boolean last = writerDone.get();
                        long sent = r.sumBytes(Query.all()).stream().mapToLong(Totals::sent).sum();
                        long rowsSent = r.query(new Query(null, null, "curl", null, 0)).stream()
                                .mapToLong(FlowRow::sent).sum();
                        if (sent % 100 != 0 || sent < previous || rowsSent % 60 != 0) {
                            errors.add(new AssertionError("torn read: total " + sent + " after " + previous
                                    + ", curl " + rowsSent));
                        }
                        previous = sent;
                        reads.incrementAndGet();
                        if (!last && sent > 0 && sent < 100L * batches) {
                            readsDuringWrites.incrementAndGet();
                        }
                        if (last) {
                            break;
                        }
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            });
            for (int i = 0; i < batches; i++) {
                var t = T0.plusSeconds(5L * (i / 10)); // ten batches per window: merges and new rows
                List<FlowRow> batch = List.of(
                        tcp(t, curl(7), 5000, 30, 1, 1),
                        tcp(t, curl(7), 5001, 30, 1, 0),
                        tcp(t, wget(8), 6000, 40, 1, 1));
                assertThat(store.writer().submit(batch)).isTrue();
                if (i % 25 == 0) {
                    // Give the reader room to interleave on two shared cores.
                    assertThat(store.writer().flush(Duration.ofSeconds(60))).isTrue();
                }
            }
            assertThat(store.writer().flush(Duration.ofSeconds(60))).isTrue();
            writerDone.set(true);
            reader.join(TimeUnit.SECONDS.toMillis(150));
            assertThat(reader.isAlive()).isFalse();
            assertThat(errors).isEmpty();
            assertThat(reads.get()).isPositive();

            try (Reader r = store.reader()) {
                assertThat(r.sumBytes(Query.all())).containsExactly(
                        new Totals("/usr/bin/curl", "curl", 60L * batches, 2L * batches, batches),
                        new Totals("/usr/bin/wget", "wget", 40L * batches, batches, batches));
                assertThat(r.stats().flows()).isEqualTo(3L * (batches / 10));
            }
            assertThat(store.writer().stats().batchesWritten()).isEqualTo(batches);
        }
        // Informative only: on a loaded machine the reader may not get a turn mid-stream.
        System.out.println("reads " + reads.get() + ", of which during writes " + readsDuringWrites.get());
    }
}

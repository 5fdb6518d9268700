package io.peekd.tui;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.peekd.store.Reader;

/** The query thread: newest request wins, a superseded query is abandoned, close does not wait. */
class LoaderTest {

    @TempDir
    Path dir;

    @Test
    void onlyTheNewestRequestIsAnsweredAndErrorsAreReported() throws Exception {
        Path db = dir.resolve("data/peekd.db");
        Instant now = Instant.now();
        ViewDb.write(db, now);
        // Enough rows that grouping them by domain takes a while.
        ViewDb.bulk(db, 300_000, now);
        LinkedBlockingQueue<Loader.Result> results = new LinkedBlockingQueue<>();
        ZoneId zone = ZoneId.systemDefault();
        long t = now.getEpochSecond() + 1;
        try (Loader loader = new Loader(Reader.open(db), Annotator.NONE, results::add)) {
            ViewQuery slow = new ViewQuery(Dimension.DOMAIN, List.of(), TimeRange.ALL, 0, t, zone);
            // Only curl's rows have this domain: 1500 bytes sent.
            Filter curl = new Filter(Dimension.DOMAIN, "example.org", 0, false, "example.org", Dimension.DOMAIN);
            ViewQuery quick = new ViewQuery(Dimension.USER, List.of(curl), TimeRange.ALL, 0, t, zone);
            loader.submit(1, slow);
            loader.submit(2, quick);
            Loader.Result r = results.poll(120, TimeUnit.SECONDS);
            assertThat(r).isInstanceOf(Loader.Loaded.class);
            assertThat(r.seq()).isEqualTo(2);
            Page p = ((Loader.Loaded) r).page();
            assertThat(p.query()).isEqualTo(quick);
            assertThat(p.sent()).isEqualTo(1500);
            // The superseded query left nothing behind.
            assertThat(results.poll(1, TimeUnit.SECONDS)).isNull();
            assertThat(loader.busy()).isFalse();
        }
    }

    @Test
    void aBrokenAnnotatorIsAnErrorOnScreenNotADeadThread() throws Exception {
        Path db = dir.resolve("data/peekd.db");
        Instant now = Instant.now();
        ViewDb.write(db, now);
        LinkedBlockingQueue<Loader.Result> results = new LinkedBlockingQueue<>();
        Annotator linkage = new Annotator() {
            @Override
            public java.util.Map<String, String> verdicts(java.util.Collection<String> keys) {
                throw new NoClassDefFoundError("com/example/Missing");
            }
        };
        ZoneId zone = ZoneId.systemDefault();
        try (Loader loader = new Loader(Reader.open(db), linkage, results::add)) {
            loader.submit(1, new ViewQuery(Dimension.SHA256, List.of(), TimeRange.ALL, 0, now.getEpochSecond(), zone));
            Loader.Result r = results.poll(60, TimeUnit.SECONDS);
            assertThat(r).isInstanceOf(Loader.Failed.class);
            assertThat(((Loader.Failed) r).message()).contains("com/example/Missing");
            // Still alive: the next request is answered.
            loader.submit(2, new ViewQuery(Dimension.EXE, List.of(), TimeRange.ALL, 0, now.getEpochSecond(), zone));
            assertThat(results.poll(60, TimeUnit.SECONDS)).isInstanceOf(Loader.Loaded.class);
        }
    }

    @Test
    void closingDuringAQueryDeliversNothingAndClosesTheReader() throws Exception {
        Path db = dir.resolve("data/peekd.db");
        Instant now = Instant.now();
        ViewDb.write(db, now);
        ViewDb.bulk(db, 300_000, now);
        LinkedBlockingQueue<Loader.Result> results = new LinkedBlockingQueue<>();
        Reader reader = Reader.open(db);
        Loader loader = new Loader(reader, Annotator.NONE, results::add);
        loader.submit(1, new ViewQuery(Dimension.RADDR, List.of(), TimeRange.ALL, 0, now.getEpochSecond(),
                ZoneId.systemDefault()));
        loader.close();
        assertThat(results.poll(2, TimeUnit.SECONDS)).isNull();
        // The query thread closes the reader once the interrupted query returns.
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        boolean closed = false;
        while (!closed && System.nanoTime() < end) {
            try {
                reader.stats();
                Thread.sleep(50);
            } catch (io.peekd.store.StoreException e) {
                closed = true;
            }
        }
        assertThat(closed).as("reader closed by the query thread").isTrue();
    }
}

package io.peekd.store;

import static io.peekd.store.Rows.T0;
import static io.peekd.store.Rows.curl;
import static io.peekd.store.Rows.tcp;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Another connection holds the write lock (a sqlite3 shell left in a transaction, say). */
class LockedDatabaseTest {

    @TempDir
    Path dir;

    private static final Store.Options QUICK = new Store.Options(2, Duration.ofMillis(50), Duration.ofMillis(100),
            Duration.ofMillis(20), Duration.ofMillis(100), Duration.ofMillis(500));

    private static Connection lockWrites(Path db) throws Exception {
        Connection c = DriverManager.getConnection("jdbc:sqlite:" + db);
        try (Statement st = c.createStatement()) {
            st.execute("BEGIN IMMEDIATE");
        }
        return c;
    }

    private static void unlock(Connection c) throws Exception {
        try (c; Statement st = c.createStatement()) {
            st.execute("ROLLBACK");
        }
    }

    private static void awaitFailing(Writer w) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!w.stats().failing() && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(w.stats().failing()).isTrue();
    }

    @Test
    void batchesWaitForTheLockAndAFullQueueHandsTheBatchBack() throws Exception {
        Path db = dir.resolve("peekd.db");
        try (Store s = Store.open(db, QUICK)) {
            Writer w = s.writer();
            Connection locker = lockWrites(db);
            try {
                assertThat(w.submit(List.of(tcp(T0, curl(1), 1, 1, 0, 0)))).isTrue();
                awaitFailing(w); // batch 1 is now in flight and the queue is empty
                assertThat(w.stats().lastError()).contains("SQLITE_BUSY");
                assertThat(w.submit(List.of(tcp(T0, curl(1), 1, 10, 0, 0)))).isTrue();
                assertThat(w.submit(List.of(tcp(T0, curl(1), 1, 100, 0, 0)))).isTrue();
                assertThat(w.submit(List.of(tcp(T0, curl(1), 1, 1000, 0, 0)))).as("queue of 2 is full").isFalse();
                WriterStats st = w.stats();
                assertThat(st.rejectedBatches()).isEqualTo(1);
                assertThat(st.pendingBatches()).isEqualTo(3);
                assertThat(st.batchesWritten()).isZero();
            } finally {
                unlock(locker);
            }
            assertThat(w.flush(Duration.ofSeconds(60))).isTrue();
            try (Reader r = s.reader()) {
                assertThat(r.query(Query.all())).containsExactly(tcp(T0, curl(1), 1, 111, 0, 0));
            }
        }
    }

    @Test
    void closeGivesUpAfterItsTimeoutAndSaysWhatWasLost() throws Exception {
        Path db = dir.resolve("peekd.db");
        List<String> errors = new CopyOnWriteArrayList<>();
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord r) {
                if (r.getLevel().intValue() >= Level.SEVERE.intValue()) {
                    errors.add(r.getMessage());
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger log = Logger.getLogger(Writer.class.getName());
        log.addHandler(capture);
        Connection locker = null;
        try {
            Store s = Store.open(db, QUICK);
            locker = lockWrites(db);
            assertThat(s.writer().submit(List.of(tcp(T0, curl(1), 1, 4096, 512, 1)))).isTrue();
            awaitFailing(s.writer());
            s.close(); // returns after closeTimeout although nothing could be stored
            assertThat(errors).anySatisfy(m -> assertThat(m)
                    .contains("1 batches not stored").contains("4096 bytes sent").contains("512 bytes received"));
        } finally {
            log.removeHandler(capture);
            if (locker != null) {
                unlock(locker);
            }
        }
        try (Reader r = Reader.open(db)) {
            assertThat(r.query(Query.all())).isEmpty();
        }
    }
}

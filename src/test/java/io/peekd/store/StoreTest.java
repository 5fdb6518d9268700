package io.peekd.store;

import static io.peekd.store.Rows.T0;
import static io.peekd.store.Rows.T1;
import static io.peekd.store.Rows.curl;
import static io.peekd.store.Rows.tcp;
import static io.peekd.store.Rows.wget;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;

class StoreTest {

    @TempDir
    Path dir;

    private Path db() {
        return dir.resolve("data/peekd.db");
    }

    private static void write(Store s, List<FlowRow> batch) throws InterruptedException {
        assertThat(s.writer().submit(batch)).isTrue();
        assertThat(s.writer().flush(Duration.ofSeconds(60))).isTrue();
    }

    @Test
    void rowsOfTheSameProcessAndFlowInOneWindowMerge() throws Exception {
        try (Store s = Store.open(db())) {
            // Twice in one batch, then again in a later batch of the same window.
            write(s, List.of(tcp(T0, curl(7), 5000, 10, 20, 1), tcp(T0, curl(7), 5000, 1, 2, 0)));
            write(s, List.of(tcp(T0, curl(7), 5000, 100, 200, 1)));
            try (Reader r = s.reader()) {
                List<FlowRow> rows = r.query(Query.all());
                assertThat(rows).containsExactly(tcp(T0, curl(7), 5000, 111, 222, 2));
                assertThat(s.writer().stats().rowsWritten()).isEqualTo(3);
                assertThat(s.writer().stats().batchesWritten()).isEqualTo(2);
            }
        }
    }

    @Test
    void differentWindowsPidsPortsAndNullsStayApart() throws Exception {
        FlowRow noDomain = new FlowRow(T0, curl(7), "tcp", 4, "10.0.0.1", 5000, "93.184.216.34", 443,
                null, null, null, 5, 6, 0);
        FlowRow emptyDomain = new FlowRow(T0, curl(7), "tcp", 4, "10.0.0.1", 5000, "93.184.216.34", 443,
                "", null, null, 7, 8, 0);
        List<FlowRow> batch = List.of(
                tcp(T0, curl(7), 5000, 1, 1, 1),
                tcp(T1, curl(7), 5000, 2, 2, 1),   // next window
                tcp(T0, curl(8), 5000, 3, 3, 1),   // another pid of the same program
                tcp(T0, curl(7), 5001, 4, 4, 1),   // another local port
                noDomain, emptyDomain,
                noDomain);                         // merges with the first noDomain
        try (Store s = Store.open(db())) {
            write(s, batch);
            try (Reader r = s.reader()) {
                List<FlowRow> rows = r.query(Query.all());
                assertThat(rows).hasSize(6);
                assertThat(rows).contains(
                        tcp(T0, curl(7), 5000, 1, 1, 1), tcp(T1, curl(7), 5000, 2, 2, 1),
                        tcp(T0, curl(8), 5000, 3, 3, 1), tcp(T0, curl(7), 5001, 4, 4, 1),
                        new FlowRow(T0, curl(7), "tcp", 4, "10.0.0.1", 5000, "93.184.216.34", 443,
                                null, null, null, 10, 12, 0),
                        emptyDomain);
                // Time order: the later window comes last.
                assertThat(rows.getLast().time()).isEqualTo(T1);
            }
        }
    }

    @Test
    void identitiesAndExesAreStoredOnceEvenAcrossRestarts() throws Exception {
        Identity renamed = new Identity("/usr/bin/curl", "curl", "curl https://example.org", "dd".repeat(32), 9,
                "/usr/bin/bash", "bash", "-bash", "bb".repeat(32), 100, 1000, "alice", null, null);
        try (Store s = Store.open(db())) {
            List<FlowRow> batch = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                batch.add(tcp(T0.plusSeconds(5L * i), curl(7), 5000, i, i, 1));
            }
            write(s, batch);
            write(s, List.of(tcp(T0, wget(8), 6000, 1, 1, 1)));
        }
        // A new writer has an empty id cache and must find the existing rows.
        try (Store s = Store.open(db())) {
            write(s, List.of(tcp(T1, curl(7), 5000, 1, 1, 1), tcp(T1, wget(8), 6000, 1, 1, 1),
                    tcp(T1, renamed, 5000, 1, 1, 1)));
            try (Reader r = s.reader()) {
                Stats st = r.stats();
                // curl (two hashes), wget and bash as the parent of all.
                assertThat(st.exes()).isEqualTo(4);
                // curl, wget, and curl with the new hash.
                assertThat(st.idents()).isEqualTo(3);
                assertThat(st.flows()).isEqualTo(50 + 1 + 2 + 1 - 1); // curl at T1 merged with i == 1
                assertThat(st.oldest()).isEqualTo(T0);
                assertThat(st.newest()).isEqualTo(T0.plusSeconds(5L * 49));
                assertThat(st.fileBytes()).isPositive();
                assertThat(st.schemaVersion()).isEqualTo(Schema.CURRENT);
                List<Totals> byHash = r.sumBytes(new Query(T1, T1.plusSeconds(1), null, null, 0));
                assertThat(byHash).containsExactlyInAnyOrder(
                        new Totals("/usr/bin/curl", "curl", 1 + 1 + 1, 1 + 1 + 1, 3),
                        new Totals("/usr/bin/wget", "wget", 1, 1, 1));
            }
        }
    }

    @Test
    void queryFiltersOnTimeNameAndExeAndLimitsToTheNewest() throws Exception {
        try (Store s = Store.open(db())) {
            List<FlowRow> batch = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                batch.add(tcp(T0.plusSeconds(5L * i), curl(7), 5000, 10, 0, 0));
                batch.add(tcp(T0.plusSeconds(5L * i), wget(8), 6000, 0, 1, 0));
            }
            write(s, batch);
            try (Reader r = s.reader()) {
                // [T0+10s, T0+20s): windows 2 and 3; a fractional since rounds up to the next window start.
                assertThat(r.query(new Query(T0.plusSeconds(10), T0.plusSeconds(20), null, null, 0))).hasSize(4);
                assertThat(r.query(new Query(T0.plusMillis(9_500), T0.plusMillis(19_500), null, null, 0))).hasSize(4);
                assertThat(r.query(new Query(T0.plusMillis(10_500), T0.plusSeconds(20), null, null, 0))).hasSize(2);
                assertThat(r.query(new Query(null, null, "wget", null, 0)))
                        .hasSize(10).allSatisfy(row -> assertThat(row.id().name()).isEqualTo("wget"));
                assertThat(r.query(new Query(null, null, null, "/usr/bin/curl", 0)))
                        .hasSize(10).allSatisfy(row -> assertThat(row.id().exe()).isEqualTo("/usr/bin/curl"));
                assertThat(r.query(new Query(null, null, "curl", "/usr/bin/wget", 0))).isEmpty();
                List<FlowRow> last3 = r.query(new Query(null, null, "curl", null, 3));
                assertThat(last3).extracting(FlowRow::time)
                        .containsExactly(T0.plusSeconds(35), T0.plusSeconds(40), T0.plusSeconds(45));
                List<Totals> totals = r.sumBytes(Query.all());
                assertThat(totals).containsExactly(new Totals("/usr/bin/curl", "curl", 100, 0, 0),
                        new Totals("/usr/bin/wget", "wget", 0, 10, 0));
                assertThat(r.sumBytes(new Query(null, null, null, null, 1))).hasSize(1);
            }
        }
    }

    @Test
    void badRowsAreRefusedWithAReasonAndTheWriterCarriesOn() throws Exception {
        try (Store s = Store.open(db())) {
            FlowRow noTime = new FlowRow(null, curl(1), "tcp", 4, null, 0, null, 0, null, null, null, 1, 1, 1);
            FlowRow noId = new FlowRow(T0, null, "tcp", 4, null, 0, null, 0, null, null, null, 1, 1, 1);
            FlowRow negative = tcp(T0, curl(1), 1, -5, 0, 0);
            assertThatThrownBy(() -> s.writer().submit(List.of(tcp(T0, curl(1), 1, 1, 1, 1), noTime)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("row 1 of 2 has no time");
            assertThatThrownBy(() -> s.writer().submit(List.of(noId)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no identity");
            assertThatThrownBy(() -> s.writer().submit(List.of(negative)))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("negative");
            write(s, List.of(tcp(T0, curl(1), 1, 1, 1, 1)));
            try (Reader r = s.reader()) {
                assertThat(r.query(Query.all())).containsExactly(tcp(T0, curl(1), 1, 1, 1, 1));
            }
        }
    }

    @Test
    void closeStoresWhatIsQueuedAndLaterSubmitsAreRefused() throws Exception {
        Store s = Store.open(db());
        for (int i = 0; i < 20; i++) {
            assertThat(s.writer().submit(List.of(tcp(T0, curl(7), 5000, 1, 2, 0)))).isTrue();
        }
        s.close();
        assertThatThrownBy(() -> s.writer().submit(List.of(tcp(T0, curl(7), 5000, 1, 2, 0))))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        try (Reader r = Reader.open(db())) {
            assertThat(r.query(Query.all())).containsExactly(tcp(T0, curl(7), 5000, 20, 40, 0));
        }
    }

    @Test
    void secondWriterOnTheSameFileIsRefusedInThisProcessAndInAnother() throws Exception {
        try (Store s = Store.open(db())) {
            assertThatThrownBy(() -> Store.open(s.file())).isInstanceOf(StoreException.class)
                    .hasMessageContaining("already open for writing");
            OtherProcess.Result other = OtherProcess.openStore(db());
            assertThat(other.exit()).isEqualTo(3);
            assertThat(other.output()).contains("already open for writing by another peekd");
        }
        // Released on close, for this process and the other one.
        Store.open(db()).close();
        OtherProcess.Result other = OtherProcess.openStore(db());
        assertThat(other.exit()).as(other.output()).isZero();
    }

    @Test
    void connectionsUseWalAndTheReaderCannotWrite() throws Exception {
        try (Store s = Store.open(db())) {
            write(s, List.of(tcp(T0, curl(7), 5000, 1, 2, 0)));
            try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db());
                 Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("PRAGMA journal_mode")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("wal");
            }
            // Command lines may hold secrets: nobody else reads the history.
            for (Path p : List.of(db(), Path.of(db() + "-wal"), Path.of(db() + "-shm"))) {
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).as(p.toString())
                        .isEqualTo("rw-------");
            }
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(db().getParent())))
                    .isEqualTo("rwx------");
            try (Connection ro = Sqlite.openReader(db(), Duration.ofSeconds(1));
                 Statement st = ro.createStatement()) {
                assertThatThrownBy(() -> st.execute("DELETE FROM flows")).isInstanceOf(SQLException.class);
            }
            try (Reader r = s.reader()) {
                assertThat(r.query(Query.all())).hasSize(1);
            }
        }
    }

    @Test
    void readerExplainsAMissingFile() {
        assertThatThrownBy(() -> Reader.open(dir.resolve("nope.db"))).isInstanceOf(StoreException.class)
                .hasMessageContaining("no peekd database at");
    }

    @Test
    void queryRejectsNonsense() {
        assertThatThrownBy(() -> new Query(null, null, null, null, -1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Query(Instant.EPOCH.plusSeconds(1), Instant.EPOCH, null, null, 0))
                .isInstanceOf(IllegalArgumentException.class);
    }
}

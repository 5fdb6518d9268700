package io.peekd.store;

import static io.peekd.store.Rows.T0;
import static io.peekd.store.Rows.T1;
import static io.peekd.store.Rows.curl;
import static io.peekd.store.Rows.tcp;
import static io.peekd.store.Rows.wget;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.peekd.flow.Identity;

class MaintenanceTest {

    @TempDir
    Path dir;

    @Test
    void pruneRunsAfterEarlierBatchesAndDropsWhatNoRowUses() throws Exception {
        Identity shortLived = new Identity("/usr/bin/nc", "nc", "nc -l 1", null, 50, "/usr/bin/bash", "bash",
                "-bash", "bb".repeat(32), 100, 0, "root", null, null);
        // The same program with another command line: a second idents row of curl's rollup identity.
        Identity curlAgain = new Identity("/usr/bin/curl", "curl", "curl -O https://example.org/b", "aa".repeat(32), 9,
                "/usr/bin/bash", "bash", "-bash", "bb".repeat(32), 100, 1000, "alice", null, null);
        try (Store s = Store.open(dir.resolve("peekd.db"))) {
            Writer w = s.writer();
            assertThat(w.submit(List.of(tcp(T0, curl(7), 5000, 1, 1, 1), tcp(T0, shortLived, 1, 5, 5, 1),
                    tcp(T0, curlAgain, 5001, 1, 1, 1), tcp(T1, wget(8), 6000, 2, 2, 1)))).isTrue();
            // Queued behind the batch, so it sees it: deletes the T0 rows only.
            long deleted = w.prune(T1).get(60, TimeUnit.SECONDS);
            assertThat(deleted).isEqualTo(3);
            try (Reader r = s.reader()) {
                assertThat(r.query(Query.all())).containsExactly(tcp(T1, wget(8), 6000, 2, 2, 1));
                Stats st = r.stats();
                // The rollups still have curl's and nc's traffic, and are read as the lowest
                // idents row of each identity (RollupNames): those stay, curl's second goes.
                assertThat(st.idents()).as("curl's first row, nc and wget").isEqualTo(3);
                assertThat(st.exes()).as("curl, nc, wget and their parent bash").isEqualTo(4);
                assertThat(st.oldest()).isEqualTo(T1);
            }
            // The writer's id cache must not point at the deleted identity.
            assertThat(w.submit(List.of(tcp(T1, curl(7), 5000, 3, 3, 1), tcp(T1, curlAgain, 5001, 4, 4, 1)))).isTrue();
            assertThat(w.flush(Duration.ofSeconds(60))).isTrue();
            assertThat(w.stats().failedAttempts()).isZero();
            try (Reader r = s.reader()) {
                assertThat(r.query(new Query(null, null, "curl", null, 0)))
                        .containsExactlyInAnyOrder(tcp(T1, curl(7), 5000, 3, 3, 1), tcp(T1, curlAgain, 5001, 4, 4, 1));
                assertThat(r.stats().idents()).isEqualTo(4);
            }
        }
    }

    @Test
    void pruneAfterCloseIsRefused() {
        Store s = Store.open(dir.resolve("peekd.db"));
        s.close();
        assertThatThrownBy(() -> s.writer().prune(T0)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void integrityCheckPassesASoundFileAndReportsADamagedOne() throws Exception {
        Path db = dir.resolve("peekd.db");
        try (Store s = Store.open(db)) {
            for (int i = 0; i < 20; i++) {
                Identity id = new Identity("/opt/app" + i, "app" + i, "x".repeat(200), null, i, null, null, null,
                        null, 0, 0, "root", null, null);
                assertThat(s.writer().submit(List.of(tcp(T0, id, i, i, i, 1)))).isTrue();
            }
            assertThat(s.writer().flush(Duration.ofSeconds(60))).isTrue();
            try (Reader r = s.reader()) {
                assertThat(r.integrityCheck()).containsExactly("ok");
            }
        }
        // Closing checkpointed the WAL into the file. Scribble over everything after the
        // first page (the header and schema stay readable, the tables do not).
        try (RandomAccessFile f = new RandomAccessFile(db.toFile(), "rw")) {
            int page = 4096;
            byte[] junk = new byte[(int) f.length() - page];
            java.util.Arrays.fill(junk, (byte) 0x5a);
            f.seek(page);
            f.write(junk);
        }
        try (Reader r = Reader.open(db)) {
            List<String> problems = r.integrityCheck();
            assertThat(problems).isNotEmpty().doesNotContain("ok");
        }
    }
}

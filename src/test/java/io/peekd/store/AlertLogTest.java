package io.peekd.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The alert log table: written through the single writer, read back, pruned, and added to old files. */
class AlertLogTest {
    @TempDir
    Path dir;

    private static AlertRecord alert(String ref, Instant t, String rule) {
        return new AlertRecord(ref, t, rule, "flow", "exec,webhook", "pending", null, 7, "/usr/bin/curl",
                "x.com; $(id)\n", "93.184.216.34", 443, "{\"exe\":\"/usr/bin/curl\"}", null, null);
    }

    @Test
    void alertsAndTheirResultsAreStoredAndRead() throws Exception {
        Instant t = Instant.parse("2026-11-22T10:00:00.123Z");
        try (Store s = Store.open(dir.resolve("peekd.db"))) {
            assertThat(s.writer().submitAlert(alert("a1", t, "r1"))).isTrue();
            assertThat(s.writer().submitAlert(alert("a2", t.plusMillis(1), "r2"))).isTrue();
            AlertRecord done = new AlertRecord("a1", t, "r1", "flow", "exec,webhook", "failed", "exec failed: exit 3",
                    7, null, null, null, null, null, null, t.plusSeconds(2));
            assertThat(s.writer().submitAlertResult(done)).isTrue();
            assertThat(s.writer().flush(Duration.ofSeconds(10))).isTrue();
            try (Reader r = s.reader()) {
                List<AlertRecord> all = r.alerts(null, null, 0);
                assertThat(all).extracting(AlertRecord::ref).containsExactly("a1", "a2");
                AlertRecord a1 = all.getFirst();
                assertThat(a1.time()).isEqualTo(t);
                assertThat(a1.result()).isEqualTo("failed");
                assertThat(a1.detail()).isEqualTo("exec failed: exit 3");
                assertThat(a1.finished()).isEqualTo(t.plusSeconds(2));
                assertThat(a1.domain()).isEqualTo("x.com; $(id)\n");
                assertThat(a1.rport()).isEqualTo(443);
                assertThat(a1.suppressed()).isEqualTo(7);
                assertThat(r.alerts(null, "r2", 0)).extracting(AlertRecord::ref).containsExactly("a2");
                assertThat(r.alerts(t.plusMillis(1), null, 0)).extracting(AlertRecord::ref).containsExactly("a2");
                assertThat(r.alerts(null, null, 1)).extracting(AlertRecord::ref).containsExactly("a2");
            }
            // Retention removes old alerts with the old flows.
            assertThat(s.writer().prune(t.plusMillis(1)).get()).isZero();
            try (Reader r = s.reader()) {
                assertThat(r.alerts(null, null, 0)).extracting(AlertRecord::ref).containsExactly("a2");
            }
        }
    }

    @Test
    void aVersionOneFileGetsTheAlertTable() throws Exception {
        Path db = dir.resolve("peekd.db");
        Sqlite.prepareNativeTmpdir(dir);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
            Schema.migrate(c, db, Schema.MIGRATIONS.subList(0, 1));
            assertThat(Schema.userVersion(c)).isEqualTo(1);
        }
        try (Store s = Store.open(db)) {
            s.writer().submitAlert(alert("x", Instant.now(), "r"));
            s.writer().flush(Duration.ofSeconds(10));
            try (Reader r = s.reader()) {
                assertThat(r.alerts(null, null, 0)).hasSize(1);
                assertThat(r.stats().schemaVersion()).isEqualTo(Schema.CURRENT);
            }
        }
    }
}

package io.peekd.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention keeps one idents row per rollup identity (the lowest, which rollup rows are read
 * as) until the identity's last day row is gone, and schema step 11 gives one back to
 * identities whose rows an older peekd pruned with their windows.
 */
class RollupNamesTest {

    @TempDir
    Path dir;

    /** Each rollup identity's lowest idents row, with everything it names. */
    private static final String LOWEST = "SELECT i.rollup_id, i.id, coalesce(i.cmdline, '-'), coalesce(e.path, '-'),"
            + " coalesce(e.sha256, '-'), coalesce(pe.path, '-') FROM idents i JOIN exes e ON e.id = i.exe_id"
            + " JOIN exes pe ON pe.id = i.pexe_id WHERE i.id = (SELECT min(j.id) FROM idents j WHERE j.rollup_id = i.rollup_id)"
            + " ORDER BY i.rollup_id";

    /** Each rollup identity with what its idents rows name, as the rollup keeps them. */
    private static final String NAMED = "SELECT r.id, r.exe, r.sha256, r.name, r.pexe, r.psha256, r.pname, r.uid, r.user,"
            + " r.container, count(i.id) FROM rollup_idents r LEFT JOIN idents i ON i.rollup_id = r.id"
            + " LEFT JOIN exes e ON e.id = i.exe_id LEFT JOIN exes pe ON pe.id = i.pexe_id"
            + " WHERE i.id IS NULL OR (coalesce(e.path, '') = r.exe AND coalesce(e.sha256, '') = r.sha256"
            + " AND coalesce(i.name, '') = r.name AND coalesce(pe.path, '') = r.pexe AND coalesce(pe.sha256, '') = r.psha256"
            + " AND coalesce(i.pname, '') = r.pname AND i.uid = r.uid AND coalesce(i.user, '') = r.user"
            + " AND coalesce(i.container, '') = r.container) GROUP BY r.id ORDER BY r.id";

    @Test
    void retentionKeepsTheLowestIdentsRowOfEachIdentityUntilItsDaysAreGone() throws Exception {
        Path db = dir.resolve("peekd.db");
        List<List<FlowRow>> h = RollupReportTest.history(5, 600);
        Instant end = h.getLast().getFirst().time();
        List<List<String>> lowest;
        long identities, identsRows;
        try (Store s = Store.open(db)) {
            RollupReportTest.store(s, h);
            try (Connection c = RollupReportTest.raw(db); Statement st = c.createStatement()) {
                lowest = strings(st, LOWEST);
                identities = count(st, "SELECT count(*) FROM rollup_idents");
                identsRows = count(st, "SELECT count(*) FROM idents");
            }
            // The history has several command lines per identity, so there is something to prune.
            assertThat(identsRows).isGreaterThan(identities);
            assertThat(lowest).hasSize((int) identities);

            Retention.Summary first = Retention.run(s, new Retention.Policy(1, 1, 1, 3650), end.plus(Duration.ofDays(5)));
            assertThat(first.deleted().get("flows")).isPositive();
            try (Connection c = RollupReportTest.raw(db); Statement st = c.createStatement()) {
                assertThat(count(st, "SELECT count(*) FROM flows")).isZero();
                // Exactly the lowest row of each identity is left, command line, executables and all.
                assertThat(strings(st, LOWEST)).isEqualTo(lowest);
                assertThat(count(st, "SELECT count(*) FROM idents")).isEqualTo(identities);
                assertThat(count(st, "SELECT count(*) FROM rollup_idents")).isEqualTo(identities);
            }

            // A program that comes back after the days of the others have gone keeps its identity.
            Identity back = h.getFirst().getFirst().id();
            Instant later = end.plus(Duration.ofDays(40));
            RollupReportTest.store(s, List.of(List.of(new FlowRow(later, back, "tcp", 4, "10.0.0.1", 40000,
                    "192.0.2.1", 443, null, null, null, 10, 20, 1))));
            Retention.Summary second = Retention.run(s, new Retention.Policy(1, 1, 1, 1), later.plusSeconds(600));
            assertThat(second.deleted().get("rollup_idents")).isEqualTo(identities - 1);
            try (Connection c = RollupReportTest.raw(db); Statement st = c.createStatement()) {
                assertThat(count(st, "SELECT count(*) FROM rollup_idents")).isEqualTo(1);
                List<List<String>> named = strings(st, NAMED);
                assertThat(named).singleElement().satisfies(r -> {
                    assertThat(r.get(1)).isEqualTo(back.exe() == null ? "" : back.exe());
                    assertThat(r.get(3)).isEqualTo(back.name());
                });
                // Its old lowest row and the new one with the window; no executable nobody names.
                assertThat(count(st, "SELECT count(*) FROM idents")).isBetween(1L, 2L);
                assertThat(count(st, "SELECT count(*) FROM exes WHERE NOT EXISTS (SELECT 1 FROM idents"
                        + " WHERE exe_id = exes.id OR pexe_id = exes.id OR script_id = exes.id)")).isZero();
                assertThat(count(st, "SELECT count(*) FROM exes")).isPositive();
            }
        }
    }

    @Test
    void upgradeGivesANameBackToIdentitiesWhoseRowsAnOlderPeekdPruned() throws Exception {
        Path db = dir.resolve("peekd.db");
        List<List<FlowRow>> h = RollupReportTest.history(6, 600);
        Instant end = h.getLast().getFirst().time();
        List<List<String>> before;
        try (Store s = Store.open(db)) {
            RollupReportTest.store(s, h);
            Retention.run(s, new Retention.Policy(1, 1, 1, 3650), end.plus(Duration.ofDays(5)));
        }
        try (Connection c = RollupReportTest.raw(db); Statement st = c.createStatement()) {
            before = strings(st, NAMED);
            assertThat(before).allSatisfy(r -> assertThat(r.getLast()).isEqualTo("1"));
            // What schema 10's retention did: every idents row without windows went, and the
            // executables only they named; the rollups kept the identities.
            st.execute("DELETE FROM idents WHERE NOT EXISTS (SELECT 1 FROM flow_windows WHERE ident_id = idents.id)");
            st.execute(RollupNames.PRUNE_EXES);
            assertThat(count(st, "SELECT count(*) FROM idents")).isZero();
            st.execute("PRAGMA user_version = 10");
        }
        try (Store s = Store.open(db); Reader r = s.reader()) {
            assertThat(r.stats().schemaVersion()).isEqualTo(Schema.CURRENT);
        }
        try (Connection c = RollupReportTest.raw(db); Statement st = c.createStatement()) {
            // Each identity has its one row back, under its own id, naming what the rollup kept.
            assertThat(strings(st, NAMED)).isEqualTo(before);
            assertThat(count(st, "SELECT count(*) FROM idents WHERE cmdline IS NULL")).isEqualTo(before.size());
            // A program with no path (a kernel thread) and unknown hashes stay unknown, not ''.
            assertThat(count(st, "SELECT count(*) FROM exes WHERE path = '' OR sha256 = ''")).isZero();
            assertThat(count(st, "SELECT count(*) FROM exes WHERE path IS NULL")).isPositive();
        }
    }

    private static long count(Statement st, String sql) throws Exception {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static List<List<String>> strings(Statement st, String sql) throws Exception {
        List<List<String>> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> r = new ArrayList<>();
                for (int i = 1; i <= n; i++) r.add(rs.getString(i));
                out.add(r);
            }
        }
        return out;
    }
}

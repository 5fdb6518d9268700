package io.peekd.store;

import static org.assertj.core.api.Assertions.assertThat;

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

import io.peekd.flow.FlowRow;

/** The per-destination rollups (schema 8) against the raw windows they summarise. */
class DestRollupsTest {

    @TempDir
    Path dir;

    /** One line per bucket and destination key (and rollup identity for the table that keeps it). */
    private static final String RAW = "SELECT %s AS b, %s coalesce(f.proto, '') || ' ' || f.family || ' '"
            + " || coalesce(f.raddr, '') || ' ' || f.rport || ' ' || coalesce(f.domain, '') AS k, sum(f.sent), sum(f.recv),"
            + " sum(f.conns), count(*) FROM flows f JOIN idents i ON i.id = f.ident_id GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";
    private static final String ROLLUP = "SELECT h.bucket AS b, %s k.proto || ' ' || k.family || ' ' || k.raddr || ' '"
            + " || k.rport || ' ' || k.domain AS k, sum(h.sent), sum(h.recv), sum(h.conns), sum(h.windows) FROM %s h"
            + " JOIN " + DestRollups.KEYS + " k ON k.id = h.did GROUP BY 1, 2, 3 ORDER BY 1, 2, 3";

    static void assertEqualToRaw(Statement st) throws Exception {
        String hour = Rollups.bucket("f.time", Rollups.Level.HOUR), day = Rollups.bucket("f.time", Rollups.Level.DAY);
        List<String> perHour = lines(st, RAW.formatted(hour, "0,"));
        assertThat(lines(st, ROLLUP.formatted("0,", DestRollups.HOUR))).as("hours").isEqualTo(perHour).hasSizeGreaterThan(20);
        assertThat(lines(st, ROLLUP.formatted("0,", DestRollups.DAY))).as("days")
                .isEqualTo(lines(st, RAW.formatted(day, "0,"))).hasSizeGreaterThan(3);
        assertThat(lines(st, ROLLUP.formatted("h.rid,", DestRollups.DAY_IDENT))).as("days per identity")
                .isEqualTo(lines(st, RAW.formatted(day, "coalesce(i.rollup_id, 0),")));
        // Schema 10.
        assertThat(lines(st, ROLLUP.formatted("0,", DestRollups.WEEK))).as("weeks")
                .isEqualTo(lines(st, RAW.formatted(Rollups.weekBucket("f.time"), "0,"))).isNotEmpty();
        assertThat(lines(st, "SELECT bucket, did, first, last FROM " + DestRollups.WEEK + " ORDER BY 1, 2")).as("days of weeks")
                .isEqualTo(lines(st, "SELECT " + Rollups.weekBucket("f.time") + ", d.rollup_id, min(" + day + "), max(" + day
                        + ") FROM flows f JOIN dests d ON d.id = f.dest_id GROUP BY 1, 2 ORDER BY 1, 2"));
        assertThat(lines(st, "SELECT count(*) FROM dests WHERE rollup_id IS NULL")).containsExactly("0");
        // Not a destination rollup, but of the same schema step: the pids per identity and day.
        assertThat(lines(st, "SELECT * FROM " + PidDays.TABLE + " ORDER BY 1, 2, 3")).as("pids per day")
                .isEqualTo(lines(st, "SELECT DISTINCT " + day + ", ident_id, pid FROM " + FlowTables.WINDOWS + " f ORDER BY 1, 2, 3"))
                .hasSizeGreaterThan(3);
    }

    private static List<String> lines(Statement st, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringBuilder sb = new StringBuilder();
                for (int i = 1; i <= n; i++) sb.append(i > 1 ? "|" : "").append(rs.getString(i));
                out.add(sb.toString());
            }
        }
        return out;
    }

    @Test
    void sumsEqualTheRawWindowsPerHourDayAndIdentityIncludingMergedWindows() throws Exception {
        Path db = dir.resolve("peekd.db");
        try (Store s = Store.open(db)) {
            RollupReportTest.store(s, RollupReportTest.history(1, 1300));
        }
        try (Connection c = RollupReportTest.raw(db); Statement st = c.createStatement()) {
            assertEqualToRaw(st);
        }
    }

    @Test
    void weeksAddUpOverSeveralWeeks() throws Exception {
        Path db = dir.resolve("peekd.db");
        try (Store s = Store.open(db)) {
            RollupReportTest.store(s, RollupReportTest.history(4, 900, 3000)); // about 2 weeks from a Saturday
        }
        try (Connection c = RollupReportTest.raw(db); Statement st = c.createStatement()) {
            assertEqualToRaw(st);
            assertThat(lines(st, "SELECT count(DISTINCT bucket) FROM " + DestRollups.WEEK)).containsExactly("4");
        }
    }

    @Test
    void anUpgradedDatabaseGetsThemFromItsRollupsAndKeepsThemAfterwards() throws Exception {
        upgrade(7, DestRollups.DAY);
    }

    @Test
    void aSchema9DatabaseGetsTheWeeksFromItsRollupsAndThePidsFromItsWindows() throws Exception {
        upgrade(9, DestRollups.WEEK);
    }

    private void upgrade(int version, String newTable) throws Exception {
        // History stored by an older schema (through the flows view and its triggers), then opened by this peekd.
        Path current = dir.resolve("current.db"), db = dir.resolve("peekd.db");
        List<List<FlowRow>> h = RollupReportTest.history(2, 600);
        try (Store s = Store.open(current)) {
            RollupReportTest.store(s, h.subList(0, 400));
        }
        RollupReportTest.copyIntoOldSchema(current, db, version);
        try (Connection c = RollupReportTest.raw(db); Statement st = c.createStatement()) {
            assertThat(lines(st, "SELECT count(*) FROM sqlite_master WHERE name = '" + newTable + "'")).containsExactly("0");
        }
        try (Store s = Store.open(db)) {
            try (Connection c = RollupReportTest.raw(db); Statement st = c.createStatement()) {
                assertThat(lines(st, "PRAGMA user_version")).containsExactly(Integer.toString(Schema.CURRENT));
                assertEqualToRaw(st);
            }
            // Old destinations (their rollup key set by the upgrade) and new ones, on the upgraded file.
            RollupReportTest.store(s, h.subList(400, 600));
        }
        try (Connection c = RollupReportTest.raw(db); Statement st = c.createStatement()) {
            assertEqualToRaw(st);
        }
    }

    @Test
    void retentionDropsTheDayRowsPerIdentityWithTheDayRowsAndUnusedKeys() throws Exception {
        Path db = dir.resolve("peekd.db");
        try (Store s = Store.open(db)) {
            RollupReportTest.store(s, RollupReportTest.history(3, 1300));
            // Days go a week at a time: 2026-01-13 minus one day is Monday the 12th, the cutoff.
            Instant now = RollupReportTest.BASE.plus(Duration.ofDays(3)).plusSeconds(600);
            Retention.Summary sum = Retention.run(s, new Retention.Policy(1, 1, 1, 1), now);
            long cutoff = Instant.parse("2026-01-12T00:00:00Z").getEpochSecond();
            assertThat(sum.cutoffs().get(DestRollups.DAY)).isEqualTo(Instant.ofEpochSecond(cutoff));
            assertThat(sum.deleted().get(DestRollups.DAY)).isPositive();
            try (Connection c = RollupReportTest.raw(db); Statement st = c.createStatement()) {
                for (String t : List.of(DestRollups.DAY, DestRollups.DAY_IDENT, DestRollups.WEEK)) {
                    assertThat(lines(st, "SELECT min(bucket) >= " + cutoff + " FROM " + t)).as(t).containsExactly("1");
                }
                // What is left per identity still adds up to the days, and the weeks to them.
                String perBucket = "SELECT bucket, did, sum(sent), sum(recv), sum(conns), sum(windows) FROM %s GROUP BY 1, 2"
                        + " ORDER BY 1, 2";
                assertThat(lines(st, perBucket.formatted(DestRollups.DAY_IDENT))).isNotEmpty()
                        .isEqualTo(lines(st, perBucket.formatted(DestRollups.DAY)));
                assertThat(lines(st, perBucket.formatted(DestRollups.WEEK))).isNotEmpty().isEqualTo(lines(st,
                        perBucket.formatted("(SELECT " + Rollups.weekBucket("bucket") + " AS bucket, did, sent, recv, conns,"
                                + " windows FROM " + DestRollups.DAY + ")")));
                // The pids go with the raw windows, every day the raw cutoff is in or after.
                assertThat(lines(st, "SELECT count(*) FROM " + PidDays.TABLE + " WHERE bucket < "
                        + sum.cutoffs().get("flows").getEpochSecond())).containsExactly("0");
                assertThat(lines(st, "SELECT count(*) FROM " + PidDays.TABLE + " WHERE ident_id NOT IN (SELECT id FROM idents)"))
                        .containsExactly("0");
                assertThat(lines(st, "SELECT count(*) FROM " + PidDays.TABLE)).doesNotContain("0");
                // Every key left is still used by a day row or a destination.
                assertThat(lines(st, "SELECT count(*) FROM " + DestRollups.KEYS + " k WHERE NOT EXISTS (SELECT 1 FROM "
                        + DestRollups.DAY + " WHERE did = k.id) AND NOT EXISTS (SELECT 1 FROM dests WHERE rollup_id = k.id)"))
                        .containsExactly("0");
            }
        }
    }
}

package io.peekd.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What {@code peekd db stats} shows: rows, oldest and newest entry per table, file sizes
 * and the state of retention and the mirror's outbox.
 *
 * @param tables       one entry per table, in a fixed order
 * @param pageSize     bytes per database page
 * @param pages        pages in the main file
 * @param freePages    pages on the free list (returned to the file system by {@code db vacuum})
 * @param autoVacuum   0 none, 1 full, 2 incremental (what {@code db vacuum} can do in steps)
 * @param outboxOn     whether stored rows are queued for the off-host mirror
 */
public record DbStats(Path file, int schemaVersion, String dbId, List<Table> tables, long fileBytes, long walBytes,
                      long pageSize, long pages, long freePages, int autoVacuum, boolean outboxOn) {

    /**
     * @param oldest  the oldest window or bucket start, null when empty or not timed
     * @param cutoff  retention deleted everything before this; null before the first run
     */
    public record Table(String name, long rows, Instant oldest, Instant newest, Instant cutoff) {
    }

    private static final List<String> TIMED = List.of("flows", "rollup_minute", "rollup_hour", "rollup_hour_ident",
            "rollup_hour_domain", DestRollups.HOUR, "rollup_day", "rollup_day_ident", "rollup_day_domain", DestRollups.DAY,
            "rollup_week_domain", DestRollups.WEEK, PidDays.TABLE, "outbox");
    /** rollup_day_dest_ident leads with the destination: its times would be a scan, and are those of rollup_day_dest. */
    private static final List<String> PLAIN = List.of("exes", "idents", "dests", "rollup_idents", DestRollups.KEYS,
            DestRollups.DAY_IDENT);

    static DbStats read(Connection c, Path file) throws SQLException {
        List<Table> tables = new ArrayList<>();
        try (Statement st = c.createStatement()) {
            for (String t : TIMED) {
                String time = t.equals("flows") || t.equals("outbox") ? "time" : "bucket";
                // "flows" is a view since schema 7; counting the table behind it skips the join.
                String table = t.equals("flows") ? FlowTables.WINDOWS : t;
                long rows = one(st, "SELECT count(*) FROM " + table);
                Instant oldest = null, newest = null;
                // min() and max() of an indexed leading column are single index probes.
                try (ResultSet rs = st.executeQuery("SELECT min(" + time + "), max(" + time + ") FROM " + table)) {
                    if (rs.next() && rs.getObject(1) != null) {
                        oldest = Instant.ofEpochSecond(rs.getLong(1));
                        newest = Instant.ofEpochSecond(rs.getLong(2));
                    }
                }
                long cutoff = t.equals("outbox") ? Long.MIN_VALUE : Retention.cutoff(c, t);
                tables.add(new Table(t, rows, oldest, newest, cutoff == Long.MIN_VALUE ? null : Instant.ofEpochSecond(cutoff)));
            }
            for (String t : PLAIN) {
                tables.add(new Table(t, one(st, "SELECT count(*) FROM " + t), null, null, null));
            }
            String dbId;
            try (ResultSet rs = st.executeQuery("SELECT value FROM meta WHERE key = '" + Rollups.DB_ID_KEY + "'")) {
                dbId = rs.next() ? rs.getString(1) : null;
            }
            boolean outbox = one(st, "SELECT coalesce((SELECT value FROM meta WHERE key = '" + Rollups.OUTBOX_KEY
                    + "'), 0)") == 1;
            return new DbStats(file, Schema.userVersion(c), dbId, tables, size(file), size(Path.of(file + "-wal")),
                    one(st, "PRAGMA page_size"), one(st, "PRAGMA page_count"), one(st, "PRAGMA freelist_count"),
                    (int) one(st, "PRAGMA auto_vacuum"), outbox);
        }
    }

    /** The entry for one table. */
    public Table table(String name) {
        return tables.stream().filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no table " + name));
    }

    private static long one(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }
}

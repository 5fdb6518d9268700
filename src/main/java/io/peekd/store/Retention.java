package io.peekd.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Deletes what is past each table's retention: raw windows after {@code retention_days},
 * then each rollup after its own number of days.
 *
 * <p>Work is cut into small writer tasks (a few thousand rows each), so batches keep flowing
 * in between and no single transaction holds the write lock for long, even after a long
 * downtime left months to delete.
 *
 * <p>Each cutoff is aligned to the next coarser bucket (raw windows to the minute, minutes to
 * the hour, hours and days to the UTC day) and recorded in {@code meta} before the first row
 * goes, so a report never reads a range that is half deleted, and a finer table is always
 * complete from its recorded cutoff on ({@link ReportSql} relies on both).
 */
public final class Retention {

    private static final System.Logger LOG = System.getLogger(Retention.class.getName());
    private static final int CHUNK_ROWS = 5_000;
    private static final Duration TASK_TIMEOUT = Duration.ofMinutes(5);

    /**
     * Days each table keeps. Each must keep at least as long as the finer one before it, so
     * that a range the finer table no longer has can be answered by the coarser one.
     */
    public record Policy(int rawDays, int minuteDays, int hourDays, int dayDays) {
        public Policy {
            if (rawDays < 1 || minuteDays < rawDays || hourDays < minuteDays || dayDays < hourDays) {
                throw new IllegalArgumentException("need 1 <= raw <= minute <= hour <= day retention days, got "
                        + rawDays + ", " + minuteDays + ", " + hourDays + ", " + dayDays);
            }
        }
    }

    /** What one run deleted: rows per table, in the order they were pruned. */
    public record Summary(Map<String, Long> deleted, Map<String, Instant> cutoffs) {
        public long total() {
            return deleted.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private Retention() {
    }

    /** The meta key of a table's recorded cutoff. */
    static String key(String table) {
        return "pruned." + table;
    }

    /** Rows of {@code table} before the returned epoch second are gone; {@code Long.MIN_VALUE} when none are. */
    static long cutoff(Connection c, String table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT value FROM meta WHERE key = ?")) {
            ps.setString(1, key(table));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getObject(1) != null ? rs.getLong(1) : Long.MIN_VALUE;
            }
        }
    }

    /** The cutoffs a run at {@code now} would use, aligned as described above. */
    static Map<String, Long> cutoffs(Policy p, Instant now) {
        long t = now.getEpochSecond();
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("flows", ReportSql.floor(t - p.rawDays() * 86_400L, 60));
        m.put(Rollups.Level.MINUTE.table, ReportSql.floor(t - p.minuteDays() * 86_400L, 3_600));
        m.put(Rollups.Level.HOUR.table, ReportSql.floor(t - p.hourDays() * 86_400L, 86_400));
        m.put(Rollups.Level.DAY.table, ReportSql.floor(t - p.dayDays() * 86_400L, 86_400));
        return m;
    }

    /**
     * Prunes every table, blocking the caller (not the writer) until done.
     *
     * @throws StoreException when a step fails; what was deleted stays deleted, and the next
     *         run continues from the recorded cutoffs
     */
    public static Summary run(Writer w, Policy p, Instant now) throws InterruptedException {
        Map<String, Long> deleted = new LinkedHashMap<>();
        Map<String, Instant> shown = new LinkedHashMap<>();
        for (Map.Entry<String, Long> e : cutoffs(p, now).entrySet()) {
            String table = e.getKey();
            // Never move a cutoff back: rows before the old one are gone even if retention grew.
            long cutoff = await(w.task("record cutoff of " + table, c -> record(c, table, e.getValue())));
            shown.put(table, Instant.ofEpochSecond(cutoff));
            long total = 0;
            while (true) {
                long n = await(w.task("prune " + table, c -> deleteChunk(c, table, cutoff)));
                total += n;
                if (n == 0) {
                    break;
                }
            }
            if (table.equals("flows")) {
                // Drops identities and executables that no row refers to any more.
                await(w.prune(Instant.ofEpochSecond(cutoff)));
            }
            deleted.put(table, total);
        }
        long idents = 0;
        while (true) {
            long n = await(w.task("prune rollup identities", Retention::deleteIdentChunk));
            idents += n;
            if (n == 0) {
                break;
            }
        }
        deleted.put("rollup_idents", idents);
        Summary s = new Summary(deleted, shown);
        if (s.total() > 0) {
            LOG.log(System.Logger.Level.INFO, "retention deleted " + deleted + " (cutoffs " + shown + ")");
        }
        return s;
    }

    private static long record(Connection c, String table, long cutoff) throws SQLException {
        long old = cutoff(c, table);
        long value = Math.max(old, cutoff);
        if (value != old) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO meta (key, value) VALUES (?, ?)"
                    + " ON CONFLICT (key) DO UPDATE SET value = excluded.value")) {
                ps.setString(1, key(table));
                ps.setLong(2, value);
                ps.executeUpdate();
            }
        }
        return value;
    }

    private static long deleteChunk(Connection c, String table, long cutoff) throws SQLException {
        if (table.equals("flows")) {
            try (PreparedStatement ps = c.prepareStatement(
                    "DELETE FROM flows WHERE rowid IN (SELECT rowid FROM flows WHERE time < ? LIMIT " + CHUNK_ROWS + ")")) {
                ps.setLong(1, cutoff);
                return ps.executeUpdate();
            }
        }
        // WITHOUT ROWID tables: delete a span of buckets at a time, from the oldest.
        long min;
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT min(bucket) FROM " + table)) {
            if (!rs.next() || rs.getObject(1) == null) {
                return 0;
            }
            min = rs.getLong(1);
        }
        if (min >= cutoff) {
            return 0;
        }
        long span = switch (table) {
            case "rollup_minute" -> 3_600;
            case "rollup_hour" -> 86_400;
            default -> 7 * 86_400;
        };
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE bucket < ?")) {
            ps.setLong(1, Math.min(cutoff, min + span));
            // Never 0 here: the rows of the oldest bucket are always in the span.
            return ps.executeUpdate();
        }
    }

    private static long deleteIdentChunk(Connection c) throws SQLException {
        try (Statement st = c.createStatement()) {
            return st.executeUpdate("DELETE FROM rollup_idents WHERE id IN (SELECT r.id FROM rollup_idents r"
                    + " WHERE NOT EXISTS (SELECT 1 FROM rollup_day d WHERE d.rid = r.id)"
                    + " AND NOT EXISTS (SELECT 1 FROM idents i WHERE i.rollup_id = r.id) LIMIT " + CHUNK_ROWS + ")");
        }
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> f) throws InterruptedException {
        try {
            return f.get(TASK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof StoreException se ? se : new StoreException("retention failed: " + cause, cause);
        } catch (TimeoutException e) {
            throw new StoreException("retention step did not finish within " + TASK_TIMEOUT.toMinutes()
                    + " minutes; the writer is stuck behind a failing disk?", e);
        }
    }
}

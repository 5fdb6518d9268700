package io.peekd.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
 * the hour, hours to the UTC day, days and weeks to the week) and recorded in {@code meta} before the first row
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

    /**
     * Rows of {@code table} ({@code flows} for the raw windows, or a rollup table) before the
     * returned epoch second are gone; {@code Long.MIN_VALUE} when none are. Readers use it to
     * tell a range retention cut from one that had no traffic.
     */
    public static long cutoff(Connection c, String table) throws SQLException {
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
        long hour = ReportSql.floor(t - p.hourDays() * 86_400L, 86_400);
        m.put(Rollups.Level.HOUR.table, hour);
        m.put(Rollups.Level.HOUR.identTable, hour);
        m.put(Rollups.Level.HOUR.domainTable, hour);
        m.put(DestRollups.HOUR, hour);
        // Days go a whole week at a time, like the week table after them, so that the days are
        // complete from the start of any week the week table has (see ReportSql).
        long day = Math.floorDiv(t - p.dayDays() * 86_400L - Rollups.WEEK_OFFSET, Rollups.WEEK) * Rollups.WEEK
                + Rollups.WEEK_OFFSET;
        m.put(Rollups.Level.DAY.table, day);
        m.put(Rollups.Level.DAY.identTable, day);
        m.put(Rollups.Level.DAY.domainTable, day);
        // rollup_day_dest_ident goes with it (see deleteChunk).
        m.put(DestRollups.DAY, day);
        m.put(Rollups.WEEK_DOMAIN, day);
        m.put(DestRollups.WEEK, day);
        return m;
    }

    /**
     * Prunes every table, blocking the caller (not the writer) until done.
     *
     * @throws StoreException when a step fails; what was deleted stays deleted, and the next
     *         run continues from the recorded cutoffs
     */
    public static Summary run(Store store, Policy p, Instant now) throws InterruptedException {
        Writer w = store.writer();
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
        long identities = pruneKeys(store, "rollup identities", Reader::unreferencedRollupIdents, RollupNames.PRUNE_IDENTITY);
        deleted.put("rollup_idents", identities);
        if (identities > 0) {
            // The executables only the identities' last idents rows named.
            await(w.task("prune executables", c -> {
                try (Statement st = c.createStatement()) {
                    return (long) st.executeUpdate(RollupNames.PRUNE_EXES);
                }
            }));
        }
        deleted.put(DestRollups.KEYS, pruneKeys(store, "rollup destinations", Reader::unreferencedRollupDests,
                List.of("DELETE FROM " + DestRollups.KEYS + " WHERE id = ? AND NOT EXISTS (SELECT 1 FROM dests"
                        + " WHERE rollup_id = " + DestRollups.KEYS + ".id)")));
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
            // Clustered on time: find the time CHUNK_ROWS rows in and delete whole seconds before
            // it (all of the first second when that one alone holds more).
            long bound = cutoff;
            try (PreparedStatement ps = c.prepareStatement("SELECT min(time), (SELECT time FROM " + FlowTables.WINDOWS
                    + " WHERE time < ? ORDER BY time LIMIT 1 OFFSET " + CHUNK_ROWS + ") FROM " + FlowTables.WINDOWS)) {
                ps.setLong(1, cutoff);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getObject(2) != null) {
                        long first = rs.getLong(1), nth = rs.getLong(2);
                        bound = Math.min(cutoff, nth > first ? nth : nth + 1);
                    }
                }
            }
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + FlowTables.WINDOWS + " WHERE time < ?")) {
                ps.setLong(1, bound);
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
            case "rollup_hour", "rollup_hour_ident", "rollup_hour_domain", DestRollups.HOUR -> 86_400;
            case Rollups.WEEK_DOMAIN, DestRollups.WEEK -> 4 * Rollups.WEEK;
            default -> 7 * 86_400;
        };
        long bound = Math.min(cutoff, min + span);
        long n = 0;
        if (table.equals(DestRollups.DAY)) {
            // Clustered on the destination, so "bucket < ?" alone would scan all of it; every
            // one of its rows has a day row of the same bucket and destination, so the
            // destinations of the span name all it has to lose. Deleted first: a crash in
            // between leaves the day rows, which the next run finds again.
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + DestRollups.DAY_IDENT
                    + " WHERE did IN (SELECT did FROM " + table + " WHERE bucket < ?) AND bucket < ?")) {
                ps.setLong(1, bound);
                ps.setLong(2, bound);
                n += ps.executeUpdate();
            }
        }
        try (PreparedStatement ps = c.prepareStatement("DELETE FROM " + table + " WHERE bucket < ?")) {
            ps.setLong(1, bound);
            // Never 0 here: the rows of the oldest bucket are always in the span.
            return n + ps.executeUpdate();
        }
    }

    /**
     * Deletes rollup keys (identities, destinations) that nothing refers to any more. Which
     * ones is found by a reader (a scan of a day table, which has every key the finer tables
     * have, as it is kept longest), without holding the write lock; the writer then deletes
     * those that no idents or dests row refers to either. That second check is enough: a new
     * rollup row can only come from a new raw row, whose idents and dests rows then exist.
     * Each of {@code deletes} takes the key's id; the rows the last one deletes are counted.
     */
    private static long pruneKeys(Store store, String what, java.util.function.Function<Reader, List<Long>> unreferenced,
                                  List<String> deletes) throws InterruptedException {
        List<Long> candidates = new ArrayList<>();
        try (Reader r = store.reader()) {
            candidates.addAll(unreferenced.apply(r));
        }
        long deleted = 0;
        for (int i = 0; i < candidates.size(); i += CHUNK_ROWS) {
            List<Long> chunk = candidates.subList(i, Math.min(candidates.size(), i + CHUNK_ROWS));
            deleted += await(store.writer().task("prune " + what, c -> {
                int n = 0;
                try (Statement tx = c.createStatement()) {
                    tx.execute("BEGIN IMMEDIATE");
                    for (int k = 0; k < deletes.size(); k++) {
                        try (PreparedStatement ps = c.prepareStatement(deletes.get(k))) {
                            for (long id : chunk) {
                                ps.setLong(1, id);
                                int rows = ps.executeUpdate();
                                if (k == deletes.size() - 1) n += rows;
                            }
                        }
                    }
                    tx.execute("COMMIT");
                }
                return (long) n;
            }));
        }
        return deleted;
    }

    /** Run on a reader: rollup identities with no day row. */
    static List<Long> unreferenced(Connection c) throws SQLException {
        return ids(c, "SELECT id FROM rollup_idents EXCEPT SELECT rid FROM " + Rollups.Level.DAY.identTable);
    }

    /** Run on a reader: rollup destinations with no day row. */
    static List<Long> unreferencedDests(Connection c) throws SQLException {
        return ids(c, "SELECT id FROM " + DestRollups.KEYS + " EXCEPT SELECT did FROM " + DestRollups.DAY);
    }

    private static List<Long> ids(Connection c, String sql) throws SQLException {
        List<Long> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getLong(1));
            }
        }
        return out;
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

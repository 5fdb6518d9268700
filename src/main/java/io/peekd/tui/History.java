package io.peekd.tui;

import io.peekd.store.Retention;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Where the rows of a view come from. Retention deletes raw windows after
 * {@code retention_days} and keeps per-minute, per-hour and per-day sums much longer; a range
 * that reaches before the raw windows reads those sums for its older part, where the tab and
 * the filters are on what they keep (the process identity, the remote end, the time).
 *
 * <p>A rollup row is read as the lowest idents row of its rollup identity, which has the same
 * executable, hash, name, parent, user and container, as the dashboard does. Rows are
 * counted by their bucket's start, so the range's first minute, hour or day is in or out
 * whole.
 *
 * @param keptFrom    where the raw windows start (retention's recorded cutoff), or null when
 *                    the range is all in them
 * @param fromRollups whether the part before {@code keptFrom} is read from the rollups
 * @param from        the FROM clause the view's queries read as {@code flows f} joined to
 *                    {@code idents i}, {@code exes e} and {@code exes pe}
 * @param args        its arguments, to go before those of the WHERE clause
 */
record History(Instant keptFrom, boolean fromRollups, String from, List<Object> args) {

    /** Tabs and filters the rollups answer: everything but the command lines and the local end. */
    static final Set<Dimension> IN_ROLLUPS = EnumSet.complementOf(EnumSet.of(Dimension.CMDLINE, Dimension.PCMDLINE,
            Dimension.LPORT, Dimension.LADDR));

    private static final String IDENTITY = " JOIN idents i ON i.id = f.ident_id"
            + " JOIN exes e ON e.id = i.exe_id JOIN exes pe ON pe.id = i.pexe_id";

    static final History RAW = new History(null, false, " FROM flows f" + IDENTITY, List.of());

    /** The rows of one rollup table in [?, ?), with the columns of flows that the view reads. */
    private static String piece(String table) {
        return " UNION ALL SELECT h.bucket, m.iid, NULL, NULL, h.rport, nullif(h.raddr, ''), nullif(h.domain, ''),"
                + " h.sent, h.recv FROM " + table + " h JOIN (SELECT rollup_id AS rid, min(id) AS iid FROM idents"
                + " GROUP BY rollup_id) m ON m.rid = h.rid WHERE h.bucket >= ? AND h.bucket < ?";
    }

    private static final String UNION = " FROM (SELECT time, ident_id, lport, laddr, rport, raddr, domain, sent, recv"
            + " FROM flows WHERE time >= ?" + piece("rollup_minute") + piece("rollup_hour") + piece("rollup_day") + ") f"
            + IDENTITY;

    /** The source for a range starting at {@code since} (null: all time) of {@code tab} under {@code filters}. */
    static History of(Connection c, Long since, Dimension tab, List<Filter> filters) throws SQLException {
        long raw = Retention.cutoff(c, "flows");
        if (raw == Long.MIN_VALUE || (since != null && since >= raw)) {
            return RAW;
        }
        boolean rollups = IN_ROLLUPS.contains(tab) && filters.stream().allMatch(f -> IN_ROLLUPS.contains(f.dim()));
        if (!rollups) {
            return new History(Instant.ofEpochSecond(raw), false, RAW.from, List.of());
        }
        // Each coarser table answers what the finer one no longer has; a table never pruned has it all.
        long minute = Math.min(raw, Retention.cutoff(c, "rollup_minute"));
        long hour = Math.min(minute, Retention.cutoff(c, "rollup_hour"));
        long day = Math.min(hour, Retention.cutoff(c, "rollup_day"));
        return new History(Instant.ofEpochSecond(raw), true, UNION, List.of(raw, minute, raw, hour, minute, day, hour));
    }
}

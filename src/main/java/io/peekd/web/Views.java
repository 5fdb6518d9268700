package io.peekd.web;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.peekd.flow.FlowRow;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The SQL behind each view. Every statement is a fixed text plus {@code ?} values: request
 * text only ever selects among {@link Dim} expressions or becomes a bound value.
 */
final class Views {

    record Summary(long from, long to, long sent, long recv, long conns, long rows, long processes, long remotes,
                   Long first, Long last) {
    }

    record Group(Map<String, Object> key, long sent, long recv, long conns, long rows, long first, long last) {
    }

    record Series(String key, long[] sent, long[] recv, long total) {
    }

    record Timeseries(long from, long to, long bucket, String zone, List<String> by, long[] times,
                      List<Series> series) {
    }

    /**
     * A node of the process tree. A placeholder stands for a parent that moved nothing in the
     * range and shows its children's sums; a program whose raw windows retention deleted has
     * no pids left but is no placeholder.
     */
    record Proc(String exe, String name, String sha256, String user, long pids, long sent, long recv, long conns,
                long first, long last, List<Proc> children, boolean placeholder) {
    }

    record PerProcess(String exe, String name, long sent, long recv, long conns) {
    }

    /**
     * {@code processes} are the largest few; {@code processCount} counts them all and {@code more}
     * sums the rest (null when none is left out), so the breakdown still adds up to the totals.
     */
    record Destination(String raddr, String domain, String ports, String protos, long sent, long recv, long conns,
                       long first, long last, List<PerProcess> processes,
                       @JsonProperty("process_count") int processCount, PerProcess more) {
    }

    /** Processes listed per destination unless asked otherwise: a month can have a hundred behind each. */
    static final int PROCESSES_PER_DESTINATION = 10;

    enum Order {
        TOTAL("sum(x.s) + sum(x.r) DESC"), SENT("sum(x.s) DESC"), RECV("sum(x.r) DESC"),
        CONNS("sum(x.n) DESC"), TIME("max(x.ma) DESC");

        final String sql;

        Order(String sql) {
            this.sql = sql;
        }
    }

    private final Db db;
    /** Read whole hours from the rollups when a view allows it; off only to measure the difference. */
    private final boolean rollups;

    Views(Db db) {
        this(db, true);
    }

    Views(Db db, boolean rollups) {
        this.db = db;
        this.rollups = rollups;
    }

    /** The grain of callers that do not chart by time: whole UTC days may come from rollup_day. */
    static final long DAYS = 86_400;

    /** Dimensions the hourly rollup keeps: grouping or filtering on any other needs the raw rows. */
    static final java.util.Set<Dim> HOURLY = java.util.EnumSet.of(Dim.EXE, Dim.NAME, Dim.SHA256, Dim.PEXE, Dim.PNAME,
            Dim.PSHA256, Dim.UID, Dim.USER, Dim.CONTAINER, Dim.PROTO, Dim.FAMILY, Dim.RADDR, Dim.RPORT, Dim.DOMAIN);

    /*
     * The whole UTC days of a range come from rollup_day, the whole hours at their edges from
     * rollup_hour, the partial hours at the range's edges from flows: a month is then some
     * thousands of rollup rows per day instead of every flow window. Each rollup row stands in
     * for the lowest idents row of its rollup identity, which has the same executable, hash,
     * name, parent, user and container, so identity filters and joins work unchanged. k counts
     * the flow windows a row stands for; time is the bucket's start. Arguments: the day range,
     * the hour ranges before and after it, the raw ranges before and after the hours.
     *
     * Each piece is its own branch with one plain range: written as the whole range minus the
     * inner one ("t >= ? AND t < ? AND (t < ? OR t >= ?)"), SQLite searched the whole range
     * and filtered, so a month's edges read every raw window of the month.
     */
    private static String rollupSql(String day, String hour, String rollupCols, String rawCols) {
        String ids = " JOIN (SELECT rollup_id AS rid, min(id) AS iid FROM idents GROUP BY rollup_id) m ON m.rid = h.rid";
        String hours = " UNION ALL SELECT h.bucket, m.iid, " + rollupCols + " FROM " + hour + " h" + ids
                + " WHERE h.bucket >= ? AND h.bucket < ?";
        String raw = " UNION ALL SELECT f.time, f.ident_id, " + rawCols + ", 1 FROM flows f WHERE f.time >= ? AND f.time < ?";
        return "SELECT h.bucket AS time, m.iid AS ident_id, " + rollupCols + " FROM " + day + " h" + ids
                + " WHERE h.bucket >= ? AND h.bucket < ?" + hours + hours + raw + raw;
    }

    private static final String ROLLUP_COLUMNS = "nullif(h.proto, '') AS proto, h.family AS family,"
            + " nullif(h.raddr, '') AS raddr, h.rport AS rport, nullif(h.domain, '') AS domain, h.sent AS sent,"
            + " h.recv AS recv, h.conns AS conns, h.windows AS k";
    private static final String ROLLUP_RAW_COLUMNS = "f.proto, f.family, f.raddr, f.rport, f.domain, f.sent, f.recv, f.conns";
    private static final String ROLLUP_SQL = rollupSql("rollup_day", "rollup_hour", ROLLUP_COLUMNS, ROLLUP_RAW_COLUMNS);

    /** Process identity only: the per-identity hourly table, an order of magnitude fewer rows. */
    static final java.util.Set<Dim> IDENT_HOURLY = java.util.EnumSet.of(Dim.EXE, Dim.NAME, Dim.SHA256, Dim.PEXE,
            Dim.PNAME, Dim.PSHA256, Dim.UID, Dim.USER, Dim.CONTAINER);

    private static final String IDENT_ROLLUP_SQL = rollupSql("rollup_day_ident", "rollup_hour_ident",
            "h.sent AS sent, h.recv AS recv, h.conns AS conns, h.windows AS k", "f.sent, f.recv, f.conns");

    /** What a query reads as {@code flows f}, and how it counts the flow windows in a group. */
    record Source(String from, String windows) {
        static final Source RAW = new Source(" FROM flows f", "count(*)");
    }

    /**
     * Where the pieces of a range come from: whole UTC days [ds, de), whole hours [hs, ds)
     * and [de, he), raw windows [from, hs) and [he, to).
     */
    record Pieces(long from, long to, long ds, long de, long hs, long he) {
        /** The end of the days and hours of a range after which nothing is stored (see DestTable.openEnd). */
        static final long OPEN = Long.MAX_VALUE;

        /** In the order of the branches of every rollup union. */
        List<Object> args() {
            return List.of(ds, de, hs, ds, de, he, from, hs, he, to);
        }
    }

    /**
     * The pieces when the range holds at least two whole hours, every dimension grouped or
     * filtered on is {@code kept} and the database has {@code table}; null when only the raw
     * windows can answer. {@code grain} is the coarsest bucket the caller can take rows of
     * (0: raw rows only, 3600: hours, 86400: days too), since a rollup row carries its
     * bucket's start as its time.
     */
    private Pieces pieces(Filter f, java.util.Collection<Dim> dims, long grain, java.util.Set<Dim> kept, String table) {
        long hs = Math.floorDiv(f.from() + 3599, 3600) * 3600, he = Math.floorDiv(f.to(), 3600) * 3600;
        if (!rollups || grain < 3600 || he - hs < 2 * 3600 || !kept.containsAll(dims) || !kept.containsAll(f.eq().keySet())
                || !db.has(table)) return null;
        long ds = Math.floorDiv(f.from() + 86_399, 86_400) * 86_400, de = Math.floorDiv(f.to(), 86_400) * 86_400;
        if (grain < 86_400 || de <= ds) ds = de = hs; // no whole day: the day part reads nothing
        return new Pieces(f.from(), f.to(), ds, de, hs, he);
    }

    /**
     * The rollup source when {@link #pieces} allows it, the raw table otherwise. Its values go
     * to {@code args}, so call this before adding the filter's.
     */
    Source source(Filter f, java.util.Collection<Dim> dims, long grain, List<Object> args) {
        Pieces p = pieces(f, dims, grain, HOURLY, "rollup_hour");
        if (p == null) return Source.RAW;
        boolean identOnly = IDENT_HOURLY.containsAll(dims) && IDENT_HOURLY.containsAll(f.eq().keySet());
        args.addAll(p.args());
        return new Source(" FROM (" + (identOnly ? IDENT_ROLLUP_SQL : ROLLUP_SQL) + ") f", "sum(f.k)");
    }

    /** Destination columns the per-destination rollups keep (the rollup_dests key). */
    static final java.util.Set<Dim> DEST = java.util.EnumSet.of(Dim.PROTO, Dim.FAMILY, Dim.RADDR, Dim.RPORT, Dim.DOMAIN);

    /** The newest of the per-destination tables (schema 10). */
    static final String DEST_WEEK = "rollup_week_dest";

    /** Weeks of the per-destination week table start on Monday 00:00 UTC, as the store's week tables do. */
    private static final long WEEK = 7 * 86_400, WEEK_OFFSET = 4 * 86_400;

    /*
     * Sums per rollup destination over the range, from the per-destination week, day and hour
     * tables and the raw windows at the edges, grouped by the integer key first: the text of
     * the few thousand keys is joined after. x has the sums, f the destination's columns.
     */
    static final String DEST_SUMS;

    static {
        String days = " UNION ALL SELECT bucket, bucket, did, sent, recv, conns, windows FROM rollup_day_dest"
                + " WHERE bucket >= ? AND bucket < ?";
        String hours = " UNION ALL SELECT bucket, bucket, did, sent, recv, conns, windows FROM rollup_hour_dest"
                + " WHERE bucket >= ? AND bucket < ?";
        String raw = " UNION ALL SELECT w.time, w.time, d.rollup_id, w.sent, w.recv, w.conns, 1 FROM flow_windows w"
                + " JOIN dests d ON d.id = w.dest_id WHERE w.time >= ? AND w.time < ?";
        DEST_SUMS = " FROM (SELECT u.did AS did, sum(u.sent) AS s, sum(u.recv) AS r, sum(u.conns) AS n, sum(u.k) AS k,"
                + " min(u.first) AS mi, max(u.last) AS ma FROM (SELECT first, last, did, sent, recv, conns, windows AS k"
                + " FROM " + DEST_WEEK + " WHERE bucket >= ? AND bucket < ?" + days + days + hours + hours + raw + raw
                + ") u GROUP BY u.did) x"
                + " JOIN (SELECT id, nullif(proto, '') AS proto, family, nullif(raddr, '') AS raddr, rport,"
                + " nullif(domain, '') AS domain FROM rollup_dests) f ON f.id = x.did";
    }

    /**
     * The values of {@link #DEST_SUMS}: whole weeks [ws, we) within the whole days, the days
     * before and after them, then the pieces' hours and raw edges. A week row keeps its first
     * and last day with traffic, so first and last seen are rounded to the day either way.
     */
    static List<Object> destArgs(Pieces p) {
        long ws = Math.floorDiv(p.ds() - WEEK_OFFSET + WEEK - 1, WEEK) * WEEK + WEEK_OFFSET;
        long we = p.de() == Pieces.OPEN ? Pieces.OPEN : Math.floorDiv(p.de() - WEEK_OFFSET, WEEK) * WEEK + WEEK_OFFSET;
        if (we <= ws) ws = we = p.de(); // no whole week: the days read all of [ds, de)
        List<Object> out = new ArrayList<>(List.of(ws, we, p.ds(), ws, we, p.de()));
        out.addAll(p.args().subList(2, 10));
        return out;
    }

    /** The pieces for the per-destination tables, or null when a dimension or filter needs more. */
    private Pieces destPieces(Filter f, java.util.Collection<Dim> dims) {
        return pieces(f, dims, DAYS, DEST, DEST_WEEK);
    }

    /**
     * FROM and WHERE over the per-destination sums (x: s, r, n, k, mi, ma; f: the columns of
     * {@link #DEST}), or null when a dimension or filter needs more than the destination.
     */
    private String destFrom(Filter f, java.util.Collection<Dim> dims, List<Object> args) {
        Pieces p = destPieces(f, dims);
        if (p == null) return null;
        args.addAll(destArgs(p));
        return DEST_SUMS + f.whereNoTime(args);
    }

    /*
     * Queries aggregate in two steps: first over the flow rows of the range (a range scan of
     * flows alone, grouped by identity id and any flow columns asked for), then over those few
     * sums joined to the identity tables. Joining every flow row first costs several times more.
     */
    static final String IDENT_JOIN = " JOIN idents i ON i.id = x.iid JOIN exes e ON e.id = i.exe_id"
            + " JOIN exes pe ON pe.id = i.pexe_id";

    Summary summary(Filter f) {
        List<Object> args = new ArrayList<>();
        Source src = source(f, List.of(), DAYS, args);
        String where = f.where(args);
        Pieces dests = destPieces(f, List.of(Dim.RADDR));
        List<Object> rargs = new ArrayList<>();
        String rfrom = dests != null ? DEST_SUMS + f.whereNoTime(rargs)
                : source(f, List.of(Dim.RADDR), DAYS, rargs).from() + f.where(rargs);
        String sql = "SELECT coalesce(sum(x.s), 0), coalesce(sum(x.r), 0), coalesce(sum(x.n), 0), coalesce(sum(x.k), 0),"
                + " count(DISTINCT i.exe_id), min(x.mi), max(x.ma) FROM (SELECT f.ident_id AS iid, sum(f.sent) AS s,"
                + " sum(f.recv) AS r, sum(f.conns) AS n, " + src.windows() + " AS k, min(f.time) AS mi, max(f.time) AS ma"
                + src.from() + where + " GROUP BY f.ident_id) x" + IDENT_JOIN;
        String remotes = "SELECT count(DISTINCT f.raddr)" + rfrom;
        return db.read(c -> {
            long sent, recv, conns, rows, procs, nRemotes;
            Long first, last;
            try (PreparedStatement ps = Db.prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
                rs.next();
                sent = rs.getLong(1);
                recv = rs.getLong(2);
                conns = rs.getLong(3);
                rows = rs.getLong(4);
                procs = rs.getLong(5);
                first = rs.getLong(6);
                last = rs.getLong(7);
                if (rs.wasNull()) first = last = null;
            }
            List<Object> ra = new ArrayList<>(rargs);
            // Only the number of addresses is needed, not first or last seen: days may run open.
            if (dests != null) ra.addAll(0, destArgs(DestTable.openEnd(c, dests)));
            try (PreparedStatement ps = Db.prepare(c, remotes, ra); ResultSet rs = ps.executeQuery()) {
                rs.next();
                nRemotes = rs.getLong(1);
            }
            return new Summary(f.from(), f.to(), sent, recv, conns, rows, procs, nRemotes, first, last);
        });
    }

    /** The inner, per-identity aggregation with the flow columns of {@code dims} as x.d0, x.d1... */
    private String inner(Filter f, List<Dim> dims, String extraSelect, String extraGroup, long grain, List<Object> args) {
        Source src = source(f, dims, grain, args);
        StringBuilder sel = new StringBuilder("SELECT f.ident_id AS iid");
        StringBuilder grp = new StringBuilder(" GROUP BY f.ident_id");
        for (int i = 0; i < dims.size(); i++) {
            if (!dims.get(i).flow()) continue;
            sel.append(", ").append(dims.get(i).sql).append(" AS d").append(i);
            grp.append(", ").append(dims.get(i).sql);
        }
        if (extraSelect != null) {
            sel.append(", ").append(extraSelect);
            grp.append(", ").append(extraGroup);
        }
        return sel + ", sum(f.sent) AS s, sum(f.recv) AS r, sum(f.conns) AS n, " + src.windows() + " AS k,"
                + " min(f.time) AS mi, max(f.time) AS ma" + src.from() + f.where(args) + grp;
    }

    /** A dimension's expression over the inner aggregation joined to the identity tables. */
    private static String outer(List<Dim> dims, int i) {
        return dims.get(i).flow() ? "x.d" + i : dims.get(i).sql;
    }

    List<Group> groups(Filter f, List<Dim> by, Order order, int limit) {
        List<Object> args = new ArrayList<>();
        String from = destFrom(f, by, args);
        List<String> exprs = new ArrayList<>();
        for (int i = 0; i < by.size(); i++) exprs.add(from != null ? by.get(i).sql : outer(by, i));
        if (from == null) from = " FROM (" + inner(f, by, null, null, DAYS, args) + ") x" + IDENT_JOIN;
        String groupBy = String.join(", ", exprs);
        String sql = "SELECT " + groupBy + ", sum(x.s), sum(x.r), sum(x.n), sum(x.k), min(x.mi), max(x.ma)" + from
                + " GROUP BY " + groupBy + " ORDER BY " + order.sql + ", " + groupBy + " LIMIT ?";
        args.add(limit);
        return db.read(c -> {
            List<Group> out = new ArrayList<>();
            try (PreparedStatement ps = Db.prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Map<String, Object> key = new LinkedHashMap<>();
                    int i = 1;
                    for (Dim d : by) key.put(d.key(), rs.getObject(i++));
                    out.add(new Group(key, rs.getLong(i), rs.getLong(i + 1), rs.getLong(i + 2), rs.getLong(i + 3),
                            rs.getLong(i + 4), rs.getLong(i + 5)));
                }
            }
            return out;
        });
    }

    /** Bucket sizes the automatic choice picks from. */
    private static final long[] NICE = {1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600,
            43200, 86400, 172800, 604800};

    /**
     * Up to six hours, the finest bucket that gives at most 300 points; beyond, hourly or
     * coarser (the seed's "hourly and daily charts"): whole hours come from the hour rollups,
     * and a stacked chart of hundreds of five-minute bars over a day is noise anyway.
     */
    static long autoBucket(long seconds, long window) {
        long min = seconds > 6 * 3600 ? Math.max(window, 3600) : window;
        for (long b : NICE) if (b >= min && seconds / b <= 300) return b;
        return Math.max(min, seconds / 300);
    }

    /**
     * Sent and received per time bucket, one series per value of {@code by} (the largest
     * {@code maxSeries}, the rest summed as "other"), or one series "all".
     * Buckets of an hour and more start at local hours and midnights.
     */
    Timeseries timeseries(Filter f, Dim by, long bucket, int maxSeries, ZoneId zone) {
        long offset = zone.getRules().getOffset(java.time.Instant.ofEpochSecond(f.to())).getTotalSeconds();
        long off = bucket >= 3600 ? offset : 0;
        long first = Math.floorDiv(f.from() + off, bucket) * bucket - off;
        int n = (int) Math.max(1, (f.to() - first + bucket - 1) / bucket);
        if (n > 5000) throw new BadRequest("bucket: " + bucket + " s gives " + n + " points over this range;"
                + " at most 5000 (use a bigger bucket or a shorter range)");
        long[] times = new long[n];
        for (int i = 0; i < n; i++) times[i] = first + i * bucket;
        List<Dim> dims = by == null ? List.of() : List.of(by);
        // Rollup rows carry their bucket's start: hours land in the right chart bucket only when
        // buckets are whole hours, UTC days only when buckets are whole days starting at UTC midnight.
        long grain = bucket % 86_400 == 0 && off % 86_400 == 0 ? DAYS : bucket % 3600 == 0 && off % 3600 == 0 ? 3600 : 0;
        Pieces p = IdentSeries.covers(by) ? pieces(f, dims, grain, IDENT_HOURLY, "rollup_hour_ident") : null;
        if (p != null) return new Timeseries(f.from(), f.to(), bucket, zone.getId(), dims.stream().map(Dim::key).toList(),
                times, IdentSeries.series(db, f, p, pieces(f, dims, DAYS, IDENT_HOURLY, "rollup_hour_ident"), by, maxSeries,
                first, bucket, n));
        List<String> top = new ArrayList<>();
        if (by != null) {
            for (Group g : groups(f, List.of(by), Order.TOTAL, maxSeries)) {
                Object v = g.key().get(by.key());
                top.add(v == null ? "" : v.toString());
            }
        }
        List<Object> args = new ArrayList<>();
        String keyExpr = by == null ? "'all'" : "coalesce(CAST(" + outer(dims, 0) + " AS TEXT), '')";
        String seriesExpr = by == null ? keyExpr
                : top.isEmpty() ? "NULL" : "CASE WHEN " + keyExpr + " IN (" + "?,".repeat(top.size() - 1) + "?) THEN " + keyExpr + " END";
        args.addAll(top);
        List<Object> innerArgs = new ArrayList<>();
        innerArgs.add(off);
        innerArgs.add(bucket);
        innerArgs.add(bucket);
        innerArgs.add(off);
        String inner = inner(f, dims, "((f.time + ?) / ?) * ? - ? AS t", "t", grain, innerArgs);
        // The bucket's four values come first in the inner SELECT, before the filter's.
        List<Object> all = new ArrayList<>(args);
        all.addAll(innerArgs);
        // The alias must not be a column of x (x.k is a row count): GROUP BY takes a column first.
        String sql = "SELECT x.t, " + seriesExpr + " AS series_key, sum(x.s), sum(x.r) FROM (" + inner + ") x"
                + IDENT_JOIN + " GROUP BY x.t, series_key";
        args.clear();
        args.addAll(all);
        Map<String, long[][]> byKey = new LinkedHashMap<>();
        for (String k : top) byKey.put(k, new long[2][n]);
        db.read(c -> {
            try (PreparedStatement ps = Db.prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    int i = (int) ((rs.getLong(1) - first) / bucket);
                    if (i < 0 || i >= n) continue;
                    String k = rs.getString(2);
                    long[][] s = byKey.computeIfAbsent(k == null ? "\u0000other" : k, x -> new long[2][n]);
                    s[0][i] += rs.getLong(3);
                    s[1][i] += rs.getLong(4);
                }
            }
            return null;
        });
        List<Series> series = new ArrayList<>();
        byKey.forEach((k, s) -> {
            long total = 0;
            for (int i = 0; i < n; i++) total += s[0][i] + s[1][i];
            series.add(new Series(k.equals("\u0000other") ? null : k, s[0], s[1], total));
        });
        return new Timeseries(f.from(), f.to(), bucket, zone.getId(), by == null ? List.of() : List.of(by.key()),
                times, series);
    }

    /**
     * The start of the raw windows when retention has deleted windows of the range: the rows
     * of {@link #rows} begin there, while the sums and charts (rollups) cover the whole range.
     * Null when the range is all there.
     */
    Long keptFrom(Filter f) {
        return db.read(c -> {
            long cutoff = rawCutoff(c);
            return cutoff != Long.MIN_VALUE && f.from() < cutoff ? cutoff : null;
        });
    }

    /** Raw windows before this epoch second are gone; {@code Long.MIN_VALUE} when retention never ran. */
    private static long rawCutoff(Connection c) throws SQLException {
        return io.peekd.store.Retention.cutoff(c, "flows");
    }

    /** Raw stored rows, newest first. */
    List<FlowRow> rows(Filter f, int limit, int offset) {
        List<Object> args = new ArrayList<>();
        String sql = "SELECT " + Db.ROW_COLUMNS + Db.FROM + f.where(args)
                + " ORDER BY " + io.peekd.store.Reader.rowOrder(true) + " LIMIT ? OFFSET ?";
        args.add(limit);
        args.add(offset);
        return db.read(c -> {
            List<FlowRow> out = new ArrayList<>();
            try (PreparedStatement ps = Db.prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) out.add(Db.row(rs, 1));
            }
            return out;
        });
    }

    /**
     * Processes as a tree: each executable (and name) with its traffic, under the executable
     * of its parent. A parent that moved no bytes itself appears with zero traffic.
     */
    List<Proc> processes(Filter f, int limit) {
        List<Object> args = new ArrayList<>();
        String sums = inner(f, List.of(), null, null, DAYS, args);
        // Distinct pids are in the raw windows and, per day, in day_pids (schema 10), which
        // follows the raw windows' retention: days that start at or after its recorded cutoff
        // come from there, the rest of the range from the windows. Without a destination
        // filter the windows are counted from the (identity, time, pid...) index alone, one
        // range per identity and no table row read; the traffic comes from the rollups. A
        // rollup row stands for the lowest idents row of its identity, so the pids join per
        // idents row, not per group.
        Pieces days = pieces(f, List.of(), DAYS, IDENT_HOURLY, "day_pids");
        boolean destFilter = f.eq().keySet().stream().anyMatch(d -> d.flow() && d != Dim.PID && d != Dim.LPORT);
        String pidSource = days == null || days.de() <= days.ds() ? (destFilter ? "flows" : "flow_windows")
                : "(SELECT bucket AS time, ident_id, pid FROM day_pids WHERE bucket >= ? AND bucket < ?"
                        + " UNION ALL SELECT time, ident_id, pid FROM flow_windows WHERE time >= ? AND time < ?"
                        + " UNION ALL SELECT time, ident_id, pid FROM flow_windows WHERE time >= ? AND time < ?)";
        int pidArgs = args.size();
        String pids = "SELECT f.ident_id AS iid, count(DISTINCT f.pid) AS np FROM " + pidSource + " f" + f.where(args)
                + " AND f.ident_id IN (SELECT id FROM idents) GROUP BY f.ident_id";
        String sql = "SELECT e.path, i.name, max(e.sha256), max(i.user), sum(x.np), sum(x.s), sum(x.r),"
                + " sum(x.n), min(x.mi), max(x.ma), pe.path, i.pname FROM (SELECT u.iid AS iid, sum(u.s) AS s,"
                + " sum(u.r) AS r, sum(u.n) AS n, min(u.mi) AS mi, max(u.ma) AS ma, sum(u.np) AS np FROM ("
                + "SELECT iid, s, r, n, mi, ma, 0 AS np FROM (" + sums + ") UNION ALL SELECT iid, 0, 0, 0, NULL, NULL, np"
                + " FROM (" + pids + ")) u GROUP BY u.iid) x"
                + IDENT_JOIN + " GROUP BY e.path, i.name, pe.path, i.pname ORDER BY sum(x.s) + sum(x.r) DESC LIMIT ?";
        args.add(limit);
        record Raw(Proc p, String pexe, String pname) {
        }
        List<Raw> raw = db.read(c -> {
            List<Object> all = new ArrayList<>(args);
            if (!pidSource.startsWith("flow")) {
                long cutoff = rawCutoff(c);
                long from = Math.min(days.de(), Math.max(days.ds(), cutoff == Long.MIN_VALUE ? days.ds()
                        : Math.floorDiv(cutoff + 86_399, 86_400) * 86_400));
                all.addAll(pidArgs, List.of(from, days.de(), f.from(), from, days.de(), f.to()));
            }
            List<Raw> out = new ArrayList<>();
            try (PreparedStatement ps = Db.prepare(c, sql, all); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(new Raw(new Proc(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getLong(5), rs.getLong(6), rs.getLong(7), rs.getLong(8), rs.getLong(9), rs.getLong(10),
                            new ArrayList<>(), false), rs.getString(11), rs.getString(12)));
                }
            }
            return out;
        });
        // One node per executable path; several names or parents of one path merge into it.
        Map<String, Proc> nodes = new LinkedHashMap<>();
        Map<String, String> parentOf = new HashMap<>();
        for (Raw r : raw) {
            String id = nodeId(r.p().exe(), r.p().name());
            Proc have = nodes.get(id);
            nodes.put(id, have == null ? r.p() : merge(have, r.p()));
            parentOf.putIfAbsent(id, r.pexe() == null && r.pname() == null ? null : nodeId(r.pexe(), r.pname()));
        }
        Map<String, String> parentNames = new HashMap<>();
        for (Raw r : raw) parentNames.putIfAbsent(nodeId(r.pexe(), r.pname()), r.pname());
        List<Proc> roots = new ArrayList<>();
        Map<String, Proc> placeholders = new LinkedHashMap<>();
        for (var e : nodes.entrySet()) {
            String parent = parentOf.get(e.getKey());
            if (parent != null && !parent.equals(e.getKey()) && nodes.containsKey(parent)
                    && !isAncestor(e.getKey(), parent, parentOf)) {
                nodes.get(parent).children().add(e.getValue());
            } else if (parent != null && !parent.equals(e.getKey()) && !nodes.containsKey(parent)) {
                Proc ph = placeholders.computeIfAbsent(parent, p -> new Proc(exeOf(p), parentNames.get(p), null, null,
                        0, 0, 0, 0, 0, 0, new ArrayList<>(), true));
                ph.children().add(e.getValue());
            } else {
                roots.add(e.getValue());
            }
        }
        List<Proc> out = new ArrayList<>();
        for (Proc p : roots) out.add(withTotals(p));
        for (Proc p : placeholders.values()) out.add(withTotals(p));
        out.sort((a, b) -> Long.compare(b.sent() + b.recv(), a.sent() + a.recv()));
        return out;
    }

    private static boolean isAncestor(String node, String of, Map<String, String> parentOf) {
        // A cycle (a shell that started a shell) must not hang a node under its own child.
        String p = parentOf.get(of);
        for (int i = 0; p != null && i < 64; i++, p = parentOf.get(p)) if (p.equals(node)) return true;
        return false;
    }

    private static String nodeId(String exe, String name) {
        return exe != null ? "e" + exe : "n" + name;
    }

    private static String exeOf(String nodeId) {
        return nodeId.startsWith("e") ? nodeId.substring(1) : null;
    }

    private static Proc merge(Proc a, Proc b) {
        return new Proc(a.exe(), a.name(), a.sha256() != null ? a.sha256() : b.sha256(), a.user() != null ? a.user() : b.user(),
                a.pids() + b.pids(), a.sent() + b.sent(), a.recv() + b.recv(), a.conns() + b.conns(),
                Math.min(a.first(), b.first()), Math.max(a.last(), b.last()), a.children(), false);
    }

    /** A placeholder parent shows what its children moved, so the tree adds up. */
    private static Proc withTotals(Proc p) {
        List<Proc> kids = new ArrayList<>();
        for (Proc k : p.children()) kids.add(withTotals(k));
        kids.sort((a, b) -> Long.compare(b.sent() + b.recv(), a.sent() + a.recv()));
        if (!p.placeholder()) return new Proc(p.exe(), p.name(), p.sha256(), p.user(), p.pids(), p.sent(), p.recv(),
                p.conns(), p.first(), p.last(), kids, false);
        long s = 0, r = 0, c = 0, first = Long.MAX_VALUE, last = 0;
        for (Proc k : kids) {
            s += k.sent();
            r += k.recv();
            c += k.conns();
            first = Math.min(first, k.first());
            last = Math.max(last, k.last());
        }
        return new Proc(p.exe(), p.name(), null, null, 0, s, r, c, kids.isEmpty() ? 0 : first, last, kids, true);
    }

    /** Remote addresses (with domain), largest first, each with the processes that talked to it. */
    List<Destination> destinations(Filter f, int limit) {
        return destinations(f, limit, PROCESSES_PER_DESTINATION);
    }

    /** As above, with at most {@code perDestination} processes listed by name under each. */
    List<Destination> destinations(Filter f, int limit, int perDestination) {
        List<Object> args = new ArrayList<>();
        List<Dim> dims = List.of(Dim.RADDR, Dim.DOMAIN, Dim.RPORT, Dim.PROTO);
        Pieces p = destPieces(f, dims);
        if (p != null) return db.read(c -> DestTable.read(c, f, p, limit, perDestination));
        // Ports and protocols in order, so that the text does not depend on which table answered.
        String sql = "SELECT f.raddr, f.domain, group_concat(DISTINCT f.rport ORDER BY f.rport),"
                + " group_concat(DISTINCT f.proto ORDER BY f.proto), sum(f.sent), sum(f.recv), sum(f.conns), min(f.time),"
                + " max(f.time)" + source(f, dims, DAYS, args).from() + f.where(args)
                + " GROUP BY f.raddr, f.domain ORDER BY sum(f.sent) + sum(f.recv) DESC, f.raddr LIMIT ?";
        args.add(limit);
        record Top(String raddr, String domain, String ports, String protos, long sent, long recv, long conns,
                   long first, long last) {
        }
        return db.read(c -> {
            List<Top> top = new ArrayList<>();
            try (PreparedStatement ps = Db.prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) top.add(new Top(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        rs.getLong(5), rs.getLong(6), rs.getLong(7), rs.getLong(8), rs.getLong(9)));
            }
            Map<String, List<PerProcess>> per = new HashMap<>();
            List<String> addrs = top.stream().map(Top::raddr).filter(java.util.Objects::nonNull).distinct().toList();
            if (!addrs.isEmpty() || top.stream().anyMatch(t -> t.raddr() == null)) {
                List<Object> a2 = new ArrayList<>();
                Source src2 = source(f, List.of(Dim.RADDR, Dim.DOMAIN, Dim.EXE, Dim.NAME), DAYS, a2);
                String w2 = f.where(a2);
                List<String> terms = new ArrayList<>();
                if (!addrs.isEmpty()) {
                    terms.add("f.raddr IN (" + "?,".repeat(addrs.size() - 1) + "?)");
                    a2.addAll(addrs);
                }
                if (top.stream().anyMatch(t -> t.raddr() == null)) terms.add("f.raddr IS NULL");
                String sql2 = "SELECT x.raddr, x.domain, e.path, i.name, sum(x.s), sum(x.r), sum(x.n) FROM (SELECT"
                        + " f.ident_id AS iid, f.raddr AS raddr, f.domain AS domain, sum(f.sent) AS s, sum(f.recv) AS r,"
                        + " sum(f.conns) AS n" + src2.from() + w2 + " AND (" + String.join(" OR ", terms) + ")"
                        + " GROUP BY f.ident_id, f.raddr, f.domain) x" + IDENT_JOIN
                        // The name breaks ties, so that the processes listed are the same whichever table answered.
                        + " GROUP BY x.raddr, x.domain, e.path, i.name ORDER BY sum(x.s) + sum(x.r) DESC, e.path, i.name";
                try (PreparedStatement ps = Db.prepare(c, sql2, a2); ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        per.computeIfAbsent(rs.getString(1) + "\u0000" + rs.getString(2), k -> new ArrayList<>())
                                .add(new PerProcess(rs.getString(3), rs.getString(4), rs.getLong(5), rs.getLong(6),
                                        rs.getLong(7)));
                    }
                }
            }
            List<Destination> out = new ArrayList<>();
            for (Top t : top) {
                out.add(destination(t.raddr(), t.domain(), t.ports(), t.protos(), t.sent(), t.recv(), t.conns(),
                        t.first(), t.last(), per.getOrDefault(t.raddr() + "\u0000" + t.domain(), List.of()), perDestination));
            }
            return out;
        });
    }

    /** A row of the destinations table, with its first {@code perDestination} processes listed and the rest summed. */
    static Destination destination(String raddr, String domain, String ports, String protos, long sent, long recv,
                                   long conns, long first, long last, List<PerProcess> all, int perDestination) {
        PerProcess more = null;
        if (all.size() > perDestination) {
            long s = 0, r = 0, n = 0;
            for (PerProcess x : all.subList(perDestination, all.size())) {
                s += x.sent();
                r += x.recv();
                n += x.conns();
            }
            more = new PerProcess(null, (all.size() - perDestination) + " more", s, r, n);
        }
        return new Destination(raddr, domain, ports, protos, sent, recv, conns, first, last,
                List.copyOf(all.subList(0, Math.min(perDestination, all.size()))), all.size(), more);
    }

    /**
     * Where a live feed without a daemon has read up to: the newest window start it has seen,
     * and the rows (window start and key) of the last {@link #LATE_SECONDS} it has already
     * shown. A window's rows can be stored in more than one batch, and the daemon holds back
     * the rows of an executable it is still hashing while newer windows are stored, so "after
     * the newest time" alone would miss them. {@code null} starts at the present.
     */
    record Cursor(long time, java.util.Set<String> keys) {
    }

    /** How far behind the newest stored window a late one is still shown live. */
    static final long LATE_SECONDS = 120;

    /** Rows stored after a cursor, and the cursor after them. */
    record Tail(Cursor cursor, List<FlowRow> rows) {
    }

    Db db() {
        return db;
    }

    boolean exists() {
        return db.exists();
    }

    Tail after(Cursor cur, int limit) {
        return db.read(c -> {
            if (cur == null) {
                try (var st = c.createStatement();
                     ResultSet rs = st.executeQuery("SELECT coalesce(max(time), 0) FROM flows")) {
                    rs.next();
                    // Everything stored so far counts as seen: the feed starts at the present.
                    return after(c, new Cursor(rs.getLong(1), java.util.Set.of()), Integer.MAX_VALUE, false);
                }
            }
            return after(c, cur, limit, true);
        });
    }

    private static Tail after(java.sql.Connection c, Cursor cur, int limit, boolean keep) throws java.sql.SQLException {
        String order = io.peekd.store.Reader.rowOrder(false);
        // A row's identity is its window key (time first), as text: "time ident pid ppid dest lport".
        String sql = "SELECT " + order.replace(", ", " || ' ' || ") + ", " + Db.ROW_COLUMNS + Db.FROM
                + " WHERE f.time >= ? ORDER BY " + order + " LIMIT ?";
        List<FlowRow> out = new ArrayList<>();
        long newest = cur.time();
        java.util.Map<String, Long> seen = new java.util.HashMap<>();
        for (String k : cur.keys()) seen.put(k, Long.parseLong(k.substring(0, k.indexOf(' '))));
        try (PreparedStatement ps = Db.prepare(c, sql, List.of(cur.time() - LATE_SECONDS,
                (long) limit + cur.keys().size()));
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                FlowRow r = Db.row(rs, 2);
                long t = r.time().getEpochSecond();
                if (seen.putIfAbsent(rs.getString(1), t) == null && keep) out.add(r);
                newest = Math.max(newest, t);
            }
        }
        long horizon = newest - LATE_SECONDS;
        seen.values().removeIf(t -> t < horizon);
        return new Tail(new Cursor(newest, java.util.Set.copyOf(seen.keySet())), out);
    }
}

package io.peekd.web;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A time series by a process dimension (or of everything) from the per-identity rollups,
 * worked out on the integer rollup identity: the largest series are ranked from the whole
 * range's sums per identity, then each chart bucket gets the rows of the identities behind
 * those series plus one total, and "other" is the total less the series. Grouping every hour
 * row of a month by bucket and the dimension's text instead took about 150 ms for 112 000
 * rows; here the rows are read in their stored order (bucket, identity) and only summed.
 */
final class IdentSeries {

    /** The rollup identity column of each dimension it keeps, unknown values as ''. */
    private static final Map<Dim, String> COLUMNS = new EnumMap<>(Map.of(Dim.EXE, "exe", Dim.NAME, "name",
            Dim.SHA256, "sha256", Dim.PEXE, "pexe", Dim.PSHA256, "psha256", Dim.PNAME, "pname", Dim.UID, "uid",
            Dim.USER, "user", Dim.CONTAINER, "container"));

    /** The bucket of an aggregate row that holds a chart bucket's total rather than one identity's rows. */
    private static final long TOTAL = -1;

    private IdentSeries() {
    }

    /** Whether this answers a series by {@code by} (null: one series of everything). */
    static boolean covers(Dim by) {
        return by == null || COLUMNS.containsKey(by);
    }

    /**
     * The series over the chart buckets {@code first + i * bucket}, i &lt; n, from the pieces
     * {@code p}, whose rollup rows all start on a chart bucket's boundary. The ranking needs
     * no chart buckets, so it reads the coarser pieces {@code whole} (whole UTC days).
     */
    static List<Views.Series> series(Db db, Filter f, Views.Pieces p, Views.Pieces whole, Dim by, int maxSeries,
                                     long first, long bucket, int n) {
        return db.read(c -> {
            List<String> top = new ArrayList<>();
            Map<Long, String> keyOf = new HashMap<>();
            if (by != null) {
                String col = "r." + COLUMNS.get(by);
                List<Object> args = new ArrayList<>();
                String sums = union(whole, f, "h.rid", "sum(h.sent) + sum(h.recv) AS v", "", " GROUP BY rid", args);
                String sql = "SELECT " + col + ", group_concat(r.id) FROM (" + sums + ") x JOIN rollup_idents r"
                        + " ON r.id = x.rid GROUP BY " + col + " ORDER BY sum(x.v) DESC, " + col + " LIMIT ?";
                args.add(maxSeries);
                try (PreparedStatement ps = Db.prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        String key = rs.getString(1);
                        top.add(key);
                        for (String id : rs.getString(2).split(",")) keyOf.put(Long.parseLong(id), key);
                    }
                }
            }
            List<Object> args = new ArrayList<>();
            String sql = union(p, f, "-1", "sum(h.sent), sum(h.recv), count(*)", "", " GROUP BY t", args);
            if (!keyOf.isEmpty()) {
                sql += " UNION ALL " + union(p, f, "h.rid", "h.sent, h.recv, 1",
                        " IN (SELECT value FROM json_each(?))", "", args, keyOf.keySet().toString());
            }
            long[][] total = new long[2][n];
            long totalRows = 0, topRows = 0;
            Map<String, long[][]> byKey = new LinkedHashMap<>();
            for (String k : top) byKey.put(k, new long[2][n]);
            try (PreparedStatement ps = Db.prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    long i = Math.floorDiv(rs.getLong(1) - first, bucket);
                    if (i < 0 || i >= n) continue;
                    long rid = rs.getLong(2);
                    long[][] s = rid == TOTAL ? total : byKey.get(keyOf.get(rid));
                    s[0][(int) i] += rs.getLong(3);
                    s[1][(int) i] += rs.getLong(4);
                    if (rid == TOTAL) totalRows += rs.getLong(5);
                    else topRows += rs.getLong(5);
                }
            }
            List<Views.Series> out = new ArrayList<>();
            if (by == null) {
                if (totalRows > 0) out.add(series("all", total, n));
                return out;
            }
            long[][] other = {total[0].clone(), total[1].clone()};
            byKey.forEach((k, s) -> {
                for (int i = 0; i < n; i++) {
                    other[0][i] -= s[0][i];
                    other[1][i] -= s[1][i];
                }
                out.add(series(k, s, n));
            });
            if (totalRows > topRows) out.add(series(null, other, n));
            return out;
        });
    }

    private static Views.Series series(String key, long[][] s, int n) {
        long total = 0;
        for (int i = 0; i < n; i++) total += s[0][i] + s[1][i];
        return new Views.Series(key, s[0], s[1], total);
    }

    /**
     * One SELECT per piece of the range, joined by UNION ALL, each giving {@code t} (bucket
     * start or window time), {@code rid} as {@code ridExpr} and the columns {@code cols} over
     * {@code h} (a rollup table, or the raw windows with their identity's rollup id), with
     * {@code ridCond} (and {@code condArg}, when given) on the rollup identity.
     */
    private static String union(Views.Pieces p, Filter f, String ridExpr, String cols, String ridCond, String tail,
                                List<Object> args, Object... condArg) {
        List<Object> ranges = p.args();
        List<String> parts = new ArrayList<>();
        for (int b = 0; b < 5; b++) {
            boolean raw = b >= 3;
            String rid = raw ? "i.rollup_id" : "h.rid";
            String sql = "SELECT " + (raw ? "h.time" : "h.bucket") + " AS t, " + ridExpr.replace("h.rid", rid)
                    + " AS rid, " + cols
                    + (raw ? " FROM flow_windows h JOIN idents i ON i.id = h.ident_id WHERE h.time >= ? AND h.time < ?"
                            : " FROM " + (b == 0 ? "rollup_day_ident" : "rollup_hour_ident") + " h"
                                    + " WHERE h.bucket >= ? AND h.bucket < ?");
            args.add(ranges.get(2 * b));
            args.add(ranges.get(2 * b + 1));
            sql += f.rollupIdentWhere(rid, args);
            if (!ridCond.isEmpty()) {
                sql += " AND " + rid + ridCond;
                args.addAll(List.of(condArg));
            }
            parts.add(sql + tail);
        }
        return String.join(" UNION ALL ", parts);
    }
}

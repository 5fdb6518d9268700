package io.peekd.web;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The destinations table from the per-destination rollups: the largest destinations from
 * the sums per rollup destination ({@link Views#DEST_SUMS}), then the processes of those on
 * screen ({@link DestProcesses}).
 */
final class DestTable {

    private DestTable() {
    }

    static List<Views.Destination> read(Connection c, Filter f, Views.Pieces p, int limit, int perDestination)
            throws SQLException {
        Views.Pieces q = openEnd(c, p);
        List<Object> args = new ArrayList<>(Views.destArgs(q));
        // Ports and protocols in order, so that the text does not depend on which table answered.
        // The rollup destinations of each row are named too, for the processes and the refinement below.
        String sql = "SELECT f.raddr, f.domain, group_concat(DISTINCT f.rport ORDER BY f.rport),"
                + " group_concat(DISTINCT f.proto ORDER BY f.proto), sum(x.s), sum(x.r), sum(x.n), min(x.mi), max(x.ma),"
                + " group_concat(f.id)" + Views.DEST_SUMS + f.whereNoTime(args)
                + " GROUP BY f.raddr, f.domain ORDER BY sum(x.s) + sum(x.r) DESC, f.raddr LIMIT ?";
        args.add(limit);
        List<Row> rows = new ArrayList<>();
        try (PreparedStatement ps = Db.prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                rows.add(new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getLong(5),
                        rs.getLong(6), rs.getLong(7), new long[] {rs.getLong(8), rs.getLong(9)},
                        Arrays.stream(rs.getString(10).split(",")).mapToLong(Long::parseLong).toArray()));
            }
        }
        if (rows.isEmpty()) return List.of();
        if (q != p) refine(c, p, rows);
        List<List<Views.PerProcess>> procs = DestProcesses.of(c, q, rows.stream().map(Row::dids).toList());
        List<Views.Destination> out = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            Row r = rows.get(i);
            out.add(Views.destination(r.raddr(), r.domain(), r.ports(), r.protos(), r.sent(), r.recv(), r.conns(),
                    r.seen()[0], r.seen()[1], procs.get(i), perDestination));
        }
        return out;
    }

    /** {@code seen}: first and last seen, which {@link #refine} may correct. */
    private record Row(String raddr, String domain, String ports, String protos, long sent, long recv, long conns,
                       long[] seen, long[] dids) {
    }

    /**
     * The pieces with open-ended days when nothing is stored at or after the range's end, as
     * for every range that ends now, the dashboard's usual kind: the rows of the current day
     * and week then hold exactly the range's part of them, so the day and week tables answer
     * for all of it after the first partial day, instead of a row per destination and hour
     * up to now (23 000 rows at 19:00 on the dashboard benchmark) and the days of the week so
     * far. Nothing stored at or after the end is known from the raw windows alone while
     * retention has not deleted any of them from the end on, so the recorded raw cutoff must
     * be at or before it too.
     */
    static Views.Pieces openEnd(Connection c, Views.Pieces p) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT (SELECT max(time) FROM flow_windows),"
                + " (SELECT value FROM meta WHERE key = 'pruned.flows')");
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            boolean later = rs.getObject(1) != null && rs.getLong(1) >= p.to();
            boolean pruned = rs.getObject(2) != null && rs.getLong(2) > p.to();
            if (later || pruned) return p;
        }
        long ds = Math.floorDiv(p.from() + 86_399, 86_400) * 86_400;
        return new Views.Pieces(p.from(), p.to(), ds, Views.Pieces.OPEN, p.hs(), Views.Pieces.OPEN);
    }

    /**
     * First and last seen where open-ended days answered for the range's last partial day:
     * to the hour within its whole hours and to the second within its last partial hour, as
     * the pieces would have given them, for the few rows on screen.
     */
    private static void refine(Connection c, Views.Pieces p, List<Row> rows) throws SQLException {
        long lastDay = Math.max(Math.floorDiv(p.from() + 86_399, 86_400) * 86_400, Math.floorDiv(p.to(), 86_400) * 86_400);
        List<Long> ids = new ArrayList<>();
        for (Row r : rows) if (r.seen()[1] >= lastDay) for (long id : r.dids()) ids.add(id);
        if (ids.isEmpty()) return;
        String json = ids.toString();
        Map<Long, long[]> seen = new HashMap<>();
        try (PreparedStatement ps = Db.prepare(c, "SELECT did, min(t), max(t) FROM (SELECT did, bucket AS t"
                + " FROM rollup_hour_dest WHERE bucket >= ? AND bucket < ? AND did IN (SELECT value FROM json_each(?))"
                + " UNION ALL SELECT d.rollup_id, w.time FROM flow_windows w JOIN dests d ON d.id = w.dest_id"
                + " WHERE w.time >= ? AND w.time < ? AND d.rollup_id IN (SELECT value FROM json_each(?))) GROUP BY did",
                List.of(lastDay, Math.max(lastDay, p.he()), json, Math.max(lastDay, p.he()), p.to(), json));
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) seen.put(rs.getLong(1), new long[] {rs.getLong(2), rs.getLong(3)});
        }
        for (Row r : rows) {
            if (r.seen()[1] < lastDay) continue;
            long first = Long.MAX_VALUE, last = Long.MIN_VALUE;
            for (long id : r.dids()) {
                long[] s = seen.get(id);
                if (s == null) continue;
                first = Math.min(first, s[0]);
                last = Math.max(last, s[1]);
            }
            if (last == Long.MIN_VALUE) continue;
            r.seen()[1] = last;
            if (r.seen()[0] >= lastDay) r.seen()[0] = first;
        }
    }
}

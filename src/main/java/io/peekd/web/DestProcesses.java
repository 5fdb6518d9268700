package io.peekd.web;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The processes behind a few destinations, from the rollups: sums per (rollup destination,
 * rollup identity) pair, read for the destinations on screen only and named afterwards.
 * Grouping the pairs by address and program text in SQL, as the raw view does, sorted
 * about 20 000 rows of text for a month of the dashboard benchmark.
 */
final class DestProcesses {

    private DestProcesses() {
    }

    /** A program as the destinations table lists it. */
    private record Program(String exe, String name) {
    }

    /**
     * For each group of rollup destination ids in {@code groups} (the ids of one row of the
     * table), its processes, largest first, ties by executable and name as SQLite orders
     * them, so that the list is the one the raw view gives.
     */
    static List<List<Views.PerProcess>> of(Connection c, Views.Pieces p, List<long[]> groups) throws SQLException {
        Map<Long, Integer> groupOf = new HashMap<>();
        for (int g = 0; g < groups.size(); g++) for (long id : groups.get(g)) groupOf.put(id, g);
        String ids = groupOf.keySet().toString();
        List<Object> args = new ArrayList<>();
        // Whole days from the table clustered on the destination: a short range read per id.
        String sql = "SELECT dd.did, dd.rid, dd.sent, dd.recv, dd.conns FROM rollup_day_dest_ident dd"
                + " WHERE dd.did IN (SELECT value FROM json_each(?)) AND dd.bucket >= ? AND dd.bucket < ?";
        List<Object> r = p.args();
        args.addAll(List.of(ids, r.get(0), r.get(1)));
        // Whole hours from rollup_hour, which keys the destination by its text: the address
        // test keeps the key lookups to the rows of the destinations on screen, and the ids
        // are checked here, not in SQL, where "k.id IN" made SQLite look up every id per row.
        // Open-ended days (see DestTable.openEnd) leave only the hours of the first day.
        for (int b = 1; b <= 2; b++) {
            sql += " UNION ALL SELECT k.id, h.rid, h.sent, h.recv, h.conns FROM rollup_hour h CROSS JOIN rollup_dests k"
                    + " ON k.proto = h.proto AND k.family = h.family AND k.raddr = h.raddr AND k.rport = h.rport"
                    + " AND k.domain = h.domain WHERE h.bucket >= ? AND h.bucket < ? AND h.raddr IN (SELECT raddr"
                    + " FROM rollup_dests WHERE id IN (SELECT value FROM json_each(?)))";
            args.addAll(List.of(r.get(2 * b), r.get(2 * b + 1), ids));
        }
        for (int b = 3; b <= 4; b++) {
            sql += " UNION ALL SELECT d.rollup_id, i.rollup_id, w.sent, w.recv, w.conns FROM flow_windows w"
                    + " JOIN dests d ON d.id = w.dest_id JOIN idents i ON i.id = w.ident_id"
                    + " WHERE w.time >= ? AND w.time < ? AND d.rollup_id IN (SELECT value FROM json_each(?))";
            args.addAll(List.of(r.get(2 * b), r.get(2 * b + 1), ids));
        }
        Map<Long, Program> names = names(c);
        List<Map<Program, long[]>> sums = new ArrayList<>();
        for (int g = 0; g < groups.size(); g++) sums.add(new HashMap<>());
        try (PreparedStatement ps = Db.prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Integer g = groupOf.get(rs.getLong(1));
                Program prog = names.get(rs.getLong(2));
                if (g == null || prog == null) continue;
                long[] s = sums.get(g).computeIfAbsent(prog, x -> new long[3]);
                s[0] += rs.getLong(3);
                s[1] += rs.getLong(4);
                s[2] += rs.getLong(5);
            }
        }
        List<List<Views.PerProcess>> out = new ArrayList<>();
        for (Map<Program, long[]> m : sums) {
            List<Map.Entry<Program, long[]>> e = new ArrayList<>(m.entrySet());
            e.sort(Comparator.<Map.Entry<Program, long[]>>comparingLong(x -> -(x.getValue()[0] + x.getValue()[1]))
                    .thenComparing(x -> x.getKey().exe(), DestProcesses::sqlOrder)
                    .thenComparing(x -> x.getKey().name(), DestProcesses::sqlOrder));
            List<Views.PerProcess> list = new ArrayList<>(e.size());
            for (var x : e) list.add(new Views.PerProcess(x.getKey().exe(), x.getKey().name(), x.getValue()[0],
                    x.getValue()[1], x.getValue()[2]));
            out.add(list);
        }
        return out;
    }

    /**
     * Each rollup identity's executable and name as the raw view shows them: those of its
     * lowest idents row, as every rollup row stands for (see Views.rollupSql).
     */
    private static Map<Long, Program> names(Connection c) throws SQLException {
        Map<Long, Program> out = new LinkedHashMap<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT m.rid, e.path, i.name FROM (SELECT rollup_id AS rid,"
                + " min(id) AS iid FROM idents GROUP BY rollup_id) m JOIN idents i ON i.id = m.iid"
                + " JOIN exes e ON e.id = i.exe_id WHERE m.rid IS NOT NULL");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) out.put(rs.getLong(1), new Program(rs.getString(2), rs.getString(3)));
        }
        return out;
    }

    /** SQLite's ascending order of text: NULL first, then by UTF-8 bytes. */
    static int sqlOrder(String a, String b) {
        if (Objects.equals(a, b)) return 0;
        if (a == null) return -1;
        if (b == null) return 1;
        return Arrays.compareUnsigned(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
}

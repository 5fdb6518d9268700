package io.peekd.store;

import java.util.ArrayList;
import java.util.List;

/**
 * Schema step 7: the flow windows in two tables, behind a view that keeps the old shape.
 *
 * <p>Measured on a month of a busy desktop (10 M windows), a flat {@code flows} row with its
 * unique key index cost 225 MB per million windows, most of it the destination text
 * (addresses, domain, how the domain was learned, GeoIP) repeated on every row and again in
 * the key. Here a row keeps only what changes per process and connection and points at a
 * {@code dests} row for the rest; the table is WITHOUT ROWID, clustered on its key, so the
 * key costs nothing extra and a time range is one contiguous scan.
 *
 * <p>{@code flows} stays as a view with every old column, so readers are unchanged, and an
 * INSTEAD OF trigger lets plain inserts into it (scripts, tests) land in the new tables.
 * The writer itself skips the view and caches destination ids.
 *
 * <p>{@code dests.last} bounds the newest window that uses a destination (the writer keeps
 * it at most an hour ahead of the row it writes, so it updates it about once an hour), so
 * that retention can drop destinations nothing refers to without a scan of the windows.
 */
final class FlowTables {

    static final String WINDOWS = "flow_windows";

    /** Destination columns, in the order of the dests table and of {@link #DEST_KEY}. */
    static final List<String> DEST_COLUMNS = List.of("proto", "family", "laddr", "raddr", "rport", "domain",
            "domain_source", "domain_confidence", "domain_status", "country", "asn", "as_org");

    /** As in {@link Schema}: NULL is its own value that equals itself, apart from ''. */
    static final String DEST_KEY = "coalesce(proto, x'00'), family, coalesce(laddr, x'00'), coalesce(raddr, x'00'),"
            + " rport, coalesce(domain, x'00'), coalesce(domain_source, x'00'), coalesce(domain_confidence, x'00'),"
            + " coalesce(domain_status, x'00'), coalesce(country, x'00'), coalesce(asn, -1), coalesce(as_org, x'00')";

    static final String WINDOW_KEY = "time, ident_id, pid, ppid, dest_id, lport";

    /** A dests lookup by the same expressions as its unique index, so the index serves it. */
    static String destMatch(String d, java.util.function.UnaryOperator<String> value) {
        StringBuilder sb = new StringBuilder();
        for (String col : DEST_COLUMNS) {
            if (!sb.isEmpty()) sb.append(" AND ");
            String none = col.equals("asn") ? "-1" : "x'00'";
            if (col.equals("family") || col.equals("rport")) {
                sb.append(d).append(col).append(" = ").append(value.apply(col));
            } else {
                sb.append("coalesce(").append(d).append(col).append(", ").append(none).append(") = coalesce(")
                        .append(value.apply(col)).append(", ").append(none).append(")");
            }
        }
        return sb.toString();
    }

    static final List<String> MIGRATION = migration();

    private FlowTables() {
    }

    private static List<String> migration() {
        String cols = String.join(", ", DEST_COLUMNS);
        List<String> s = new ArrayList<>();
        s.add("""
                CREATE TABLE dests (
                    id                INTEGER PRIMARY KEY,
                    proto             TEXT,
                    family            INTEGER NOT NULL,
                    laddr             TEXT,
                    raddr             TEXT,
                    rport             INTEGER NOT NULL,
                    domain            TEXT,
                    domain_source     TEXT,
                    domain_confidence TEXT,
                    domain_status     TEXT,
                    country           TEXT,
                    asn               INTEGER,
                    as_org            TEXT,
                    last              INTEGER NOT NULL
                ) STRICT""");
        s.add("CREATE UNIQUE INDEX dests_key ON dests (" + DEST_KEY + ")");
        s.add("CREATE INDEX dests_last ON dests (last)");
        // GROUP BY puts NULLs together, as the key does.
        s.add("INSERT INTO dests (" + cols + ", last) SELECT " + cols + ", max(time) FROM flows GROUP BY " + cols);
        s.add("""
                CREATE TABLE %s (
                    time     INTEGER NOT NULL,
                    ident_id INTEGER NOT NULL,
                    pid      INTEGER NOT NULL,
                    ppid     INTEGER NOT NULL,
                    dest_id  INTEGER NOT NULL,
                    lport    INTEGER NOT NULL,
                    sent     INTEGER NOT NULL,
                    recv     INTEGER NOT NULL,
                    conns    INTEGER NOT NULL,
                    flags    INTEGER NOT NULL DEFAULT 0,
                    PRIMARY KEY (%s)
                ) STRICT, WITHOUT ROWID""".formatted(WINDOWS, WINDOW_KEY));
        // The old rows come in rowid order, which is about time order: appends, not page splits.
        s.add("INSERT INTO " + WINDOWS + " (" + WINDOW_KEY + ", sent, recv, conns, flags)"
                + " SELECT f.time, f.ident_id, f.pid, f.ppid, d.id, f.lport, f.sent, f.recv, f.conns, f.flags"
                + " FROM flows f JOIN dests d ON " + destMatch("d.", c -> "f." + c)
                + " WHERE true ON CONFLICT DO UPDATE SET sent = sent + excluded.sent, recv = recv + excluded.recv,"
                + " conns = conns + excluded.conns, flags = flags | excluded.flags");
        // Its indexes and the schema-6 triggers go with it; the rollups already hold its sums.
        s.add("DROP TABLE flows");
        s.add("CREATE INDEX " + WINDOWS + "_ident_time ON " + WINDOWS + " (ident_id, time)");
        s.add("CREATE VIEW flows AS SELECT w.time AS time, w.ident_id AS ident_id, w.pid AS pid, w.ppid AS ppid,"
                + " d.proto AS proto, d.family AS family, d.laddr AS laddr, w.lport AS lport, d.raddr AS raddr,"
                + " d.rport AS rport, d.domain AS domain, d.domain_source AS domain_source,"
                + " d.domain_confidence AS domain_confidence, w.sent AS sent, w.recv AS recv, w.conns AS conns,"
                + " d.domain_status AS domain_status, d.country AS country, d.asn AS asn, d.as_org AS as_org,"
                + " w.flags AS flags, w.dest_id AS dest_id"
                + " FROM " + WINDOWS + " w JOIN dests d ON d.id = w.dest_id");
        StringBuilder newCols = new StringBuilder();
        for (String c : DEST_COLUMNS) newCols.append(newCols.isEmpty() ? "" : ", ").append("NEW.").append(c);
        s.add("CREATE TRIGGER flows_insert INSTEAD OF INSERT ON flows BEGIN\n"
                + "    INSERT INTO dests (" + cols + ", last) VALUES (" + newCols + ", NEW.time)"
                + " ON CONFLICT DO UPDATE SET last = max(last, excluded.last);\n"
                + "    INSERT INTO " + WINDOWS + " (" + WINDOW_KEY + ", sent, recv, conns, flags)"
                + " SELECT NEW.time, NEW.ident_id, NEW.pid, NEW.ppid, d.id, NEW.lport, NEW.sent, NEW.recv, NEW.conns,"
                + " coalesce(NEW.flags, 0) FROM dests d WHERE " + destMatch("d.", c -> "NEW." + c)
                + " ON CONFLICT DO UPDATE SET sent = sent + excluded.sent, recv = recv + excluded.recv,"
                + " conns = conns + excluded.conns, flags = flags | excluded.flags;\n"
                + "END");
        s.addAll(Rollups.rollupTriggers(Rollups.Source.WINDOWS));
        s.addAll(Rollups.outboxTriggers(Rollups.Source.WINDOWS));
        return List.copyOf(s);
    }
}

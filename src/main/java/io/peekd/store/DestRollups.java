package io.peekd.store;

import java.util.ArrayList;
import java.util.List;

/**
 * Schema step 8: hour and day sums per destination, without the process identity.
 *
 * <p>A view about destinations only (the destinations table, groups by port or address, the
 * count of remote addresses) read {@code rollup_day}, which keeps a row per identity and
 * destination: when programs spread over many addresses it has about as many rows as there
 * are windows, and a month took seconds. Summed over identities a destination has one row a
 * day or hour. {@code rollup_day_dest_ident} keeps the day sums per destination and identity
 * again, but clustered on the destination, so that the processes of the few destinations on
 * screen are a handful of short range reads instead of a scan of the month.
 *
 * <p>Rows point at {@code rollup_dests}, the rollups' own destination key (protocol, family,
 * remote address, port, domain; unknown as {@code ''}, as in {@code rollup_day}), not at
 * {@code dests}: destinations are deleted with the raw windows, the rollups are kept for
 * years. {@code dests.rollup_id} remembers the key, as {@code idents.rollup_id} does for
 * identities, so the trigger needs one lookup by primary key. The triggers run in the same
 * transaction as the raw rows, so these sums equal the raw sums as the other rollups do.
 */
final class DestRollups {

    static final String KEYS = "rollup_dests";
    static final String HOUR = "rollup_hour_dest";
    static final String DAY = "rollup_day_dest";
    static final String DAY_IDENT = "rollup_day_dest_ident";
    /** Schema 10, see {@link #MIGRATION_10}. */
    static final String WEEK = "rollup_week_dest";

    private static final String KEY_COLUMNS = "proto, family, raddr, rport, domain";

    static final List<String> MIGRATION = migration();

    /**
     * Schema step 10: week sums per destination ({@code rollup_week_dest}, weeks from Monday
     * 00:00 UTC as {@code rollup_week_domain}). A month of the destinations table summed a row
     * per destination and day, 145 000 on the dashboard benchmark; whole weeks are now a row
     * per destination.
     */
    static final List<String> MIGRATION_10 = migration10();

    private DestRollups() {
    }

    private static List<String> migration() {
        List<String> s = new ArrayList<>();
        s.add("""
                CREATE TABLE %s (
                    id     INTEGER PRIMARY KEY,
                    proto  TEXT NOT NULL,
                    family INTEGER NOT NULL,
                    raddr  TEXT NOT NULL,
                    rport  INTEGER NOT NULL,
                    domain TEXT NOT NULL
                ) STRICT""".formatted(KEYS));
        s.add("CREATE UNIQUE INDEX " + KEYS + "_key ON " + KEYS + " (" + KEY_COLUMNS + ")");
        s.add("ALTER TABLE dests ADD COLUMN rollup_id INTEGER");
        // For retention: whether a dests row still refers to a rollup key.
        s.add("CREATE INDEX dests_rollup ON dests (rollup_id)");
        s.add(Rollups.sumsTable(HOUR, "did"));
        s.add(Rollups.sumsTable(DAY, "did"));
        s.add("""
                CREATE TABLE %s (
                    did     INTEGER NOT NULL,
                    bucket  INTEGER NOT NULL,
                    rid     INTEGER NOT NULL,
                    sent    INTEGER NOT NULL,
                    recv    INTEGER NOT NULL,
                    conns   INTEGER NOT NULL,
                    windows INTEGER NOT NULL,
                    PRIMARY KEY (did, bucket, rid)
                ) STRICT, WITHOUT ROWID""".formatted(DAY_IDENT));
        // History first, from the rollups rather than the windows: they reach back further,
        // and their destination columns are already the key's.
        s.add("INSERT INTO " + KEYS + " (" + KEY_COLUMNS + ") SELECT " + KEY_COLUMNS + " FROM rollup_hour UNION SELECT "
                + KEY_COLUMNS + " FROM rollup_day UNION SELECT " + destKey("") + " FROM dests");
        s.add("UPDATE dests SET rollup_id = (SELECT r.id FROM " + KEYS + " r WHERE " + match("dests.") + ")");
        String join = " JOIN " + KEYS + " k ON k.proto = h.proto AND k.family = h.family AND k.raddr = h.raddr"
                + " AND k.rport = h.rport AND k.domain = h.domain";
        String sums = "sum(h.sent), sum(h.recv), sum(h.conns), sum(h.windows)";
        s.add("INSERT INTO " + HOUR + " SELECT h.bucket, k.id, " + sums + " FROM rollup_hour h" + join + " GROUP BY 1, 2");
        s.add("INSERT INTO " + DAY + " SELECT h.bucket, k.id, " + sums + " FROM rollup_day h" + join + " GROUP BY 1, 2");
        s.add("INSERT INTO " + DAY_IDENT + " SELECT k.id, h.bucket, h.rid, " + sums + " FROM rollup_day h" + join
                + " GROUP BY 1, 2, 3");
        s.add("""
                CREATE TRIGGER dests_rollup AFTER INSERT ON dests BEGIN
                    INSERT INTO %s (%s) VALUES (%s) ON CONFLICT DO NOTHING;
                    UPDATE dests SET rollup_id = (SELECT r.id FROM %s r WHERE %s) WHERE id = NEW.id;
                END""".formatted(KEYS, KEY_COLUMNS, destKey("NEW."), KEYS, match("NEW.")));
        s.addAll(triggers(false));
        return List.copyOf(s);
    }

    private static List<String> migration10() {
        List<String> s = new ArrayList<>();
        // first and last: the first and last UTC day of the week with traffic, so that first
        // and last seen stay as precise as when the days answered.
        s.add("""
                CREATE TABLE %s (
                    bucket  INTEGER NOT NULL,
                    did     INTEGER NOT NULL,
                    sent    INTEGER NOT NULL,
                    recv    INTEGER NOT NULL,
                    conns   INTEGER NOT NULL,
                    windows INTEGER NOT NULL,
                    first   INTEGER NOT NULL,
                    last    INTEGER NOT NULL,
                    PRIMARY KEY (bucket, did)
                ) STRICT, WITHOUT ROWID""".formatted(WEEK));
        // History from the day table, which holds the same sums a day at a time.
        s.add("INSERT INTO " + WEEK + " SELECT " + Rollups.weekBucket("bucket") + ", did, sum(sent), sum(recv),"
                + " sum(conns), sum(windows), min(bucket), max(bucket) FROM " + DAY + " GROUP BY 1, 2");
        String w = FlowTables.WINDOWS;
        s.add("DROP TRIGGER " + w + "_dest_rollup_insert");
        s.add("DROP TRIGGER " + w + "_dest_rollup_update");
        s.addAll(triggers(true));
        return List.copyOf(s);
    }

    /** A dests row's rollup key, unknown values as ''. */
    private static String destKey(String d) {
        return "coalesce(" + d + "proto, ''), " + d + "family, coalesce(" + d + "raddr, ''), " + d + "rport, coalesce("
                + d + "domain, '')";
    }

    private static String match(String d) {
        return "r.proto = coalesce(" + d + "proto, '') AND r.family = " + d + "family AND r.raddr = coalesce(" + d
                + "raddr, '') AND r.rport = " + d + "rport AND r.domain = coalesce(" + d + "domain, '')";
    }

    /**
     * Every stored window, and every merge into one, added to the three tables of schema 8,
     * and with {@code week} to the week table of schema 10 too.
     */
    private static List<String> triggers(boolean week) {
        String w = FlowTables.WINDOWS;
        StringBuilder ins = new StringBuilder("CREATE TRIGGER " + w + "_dest_rollup_insert AFTER INSERT ON " + w + " BEGIN\n");
        StringBuilder upd = new StringBuilder("CREATE TRIGGER " + w + "_dest_rollup_update AFTER UPDATE OF sent, recv,"
                + " conns ON " + w + " BEGIN\n");
        String[] delta = {"NEW.sent - OLD.sent", "NEW.recv - OLD.recv", "NEW.conns - OLD.conns", "0"};
        String[] whole = {"NEW.sent", "NEW.recv", "NEW.conns", "1"};
        for (String[] v : List.of(whole, delta)) {
            StringBuilder b = v == whole ? ins : upd;
            String values = v[0] + ", " + v[1] + ", " + v[2] + ", " + v[3];
            String from = " FROM dests d WHERE d.id = NEW.dest_id";
            String add = " ON CONFLICT DO UPDATE SET sent = sent + excluded.sent, recv = recv + excluded.recv,"
                    + " conns = conns + excluded.conns, windows = windows + excluded.windows";
            String sums = values + from + add + ";\n";
            b.append("    INSERT INTO ").append(HOUR).append(" (bucket, did, sent, recv, conns, windows) SELECT ")
                    .append(Rollups.bucket("NEW.time", Rollups.Level.HOUR)).append(", d.rollup_id, ").append(sums);
            b.append("    INSERT INTO ").append(DAY).append(" (bucket, did, sent, recv, conns, windows) SELECT ")
                    .append(Rollups.bucket("NEW.time", Rollups.Level.DAY)).append(", d.rollup_id, ").append(sums);
            String rid = ", coalesce((SELECT rollup_id FROM idents WHERE id = NEW.ident_id), 0), ";
            b.append("    INSERT INTO ").append(DAY_IDENT).append(" (did, bucket, rid, sent, recv, conns, windows)")
                    .append(" SELECT d.rollup_id, ").append(Rollups.bucket("NEW.time", Rollups.Level.DAY))
                    .append(rid).append(sums);
            if (!week) continue;
            String day = Rollups.bucket("NEW.time", Rollups.Level.DAY);
            b.append("    INSERT INTO ").append(WEEK).append(" (bucket, did, sent, recv, conns, windows, first, last)")
                    .append(" SELECT ").append(Rollups.weekBucket("NEW.time")).append(", d.rollup_id, ").append(values)
                    .append(", ").append(day).append(", ").append(day).append(from).append(add)
                    .append(", first = min(first, excluded.first), last = max(last, excluded.last);\n");
        }
        return List.of(ins.append("END").toString(), upd.append("END").toString());
    }
}

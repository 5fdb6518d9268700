package io.peekd.store;

import java.util.ArrayList;
import java.util.List;

/**
 * Minute, hour and day rollups of the flow windows, the mirror's outbox, and a small
 * key/value table. Schema step 2.
 *
 * <p>The rollups are kept by triggers on the stored rows ({@link FlowTables}), in the same transaction as the raw
 * rows, rather than by a periodic job: they can never lag, never miss a late window (a
 * batch that waited behind a full disk), and never count one twice, so the sums over raw
 * rows always equal the rollup sums. The schedule in the daemon only has to delete what
 * is past each table's retention ({@link Retention}).
 *
 * <p>A rollup row keeps who (the {@code rollup_idents} row: exe, sha256, name, parent
 * exe/sha256/name, uid, user, container) and where (proto, family, remote address,
 * remote port, domain), and drops what changes with every process or connection (pid,
 * ppid, command lines, cgroup, local address and port). Unknown values are stored as
 * {@code ''} so that plain columns can form a WITHOUT ROWID primary key: no second copy of
 * the key in an index, about half the size of a rowid table with a unique index.
 */
final class Rollups {

    /**
     * One rollup table, the width of its buckets in seconds, and for hours and days a narrow
     * twin keyed by the rollup identity alone: reports grouped by executable, user and the
     * like over weeks read a few rows per identity and day instead of one per destination.
     */
    enum Level {
        MINUTE("rollup_minute", null, null, 60),
        HOUR("rollup_hour", "rollup_hour_ident", "rollup_hour_domain", 3_600),
        DAY("rollup_day", "rollup_day_ident", "rollup_day_domain", 86_400);

        final String table;
        final String identTable;
        /** Keyed by identity and domain only: "--by domain" without addresses and ports. */
        final String domainTable;
        final long seconds;

        Level(String table, String identTable, String domainTable, long seconds) {
            this.table = table;
            this.identTable = identTable;
            this.domainTable = domainTable;
            this.seconds = seconds;
        }
    }

    /**
     * Weeks per identity and domain, for "--by domain" over weeks and months: a month of day
     * buckets holds one row per domain a day, which SQLite must sort to group; weeks cut that
     * by seven. Weeks start on Monday 00:00 UTC (1970-01-05 was a Monday) and are kept as
     * long as the day rollups.
     */
    static final String WEEK_DOMAIN = "rollup_week_domain";
    static final long WEEK = 604_800;
    static final long WEEK_OFFSET = 345_600;

    /** Key of the meta row that switches the outbox trigger on (1) or off (0). */
    static final String OUTBOX_KEY = "outbox";
    /** Key of the meta row with this database's random id; the mirror's idempotent key includes it. */
    static final String DB_ID_KEY = "db_id";

    /** The columns of a flow row that the outbox copies, in the order of {@link #OUTBOX_COLUMNS}. */
    static final String OUTBOX_COLUMNS = "time, exe, name, cmdline, sha256, pid, pexe, pname, pcmdline, psha256,"
            + " ppid, uid, user, cgroup, container, proto, family, laddr, lport, raddr, rport, domain,"
            + " domain_source, domain_confidence, sent, recv, conns";

    private static final String IDENT_VALUES = "coalesce(e.path, ''), coalesce(e.sha256, ''), coalesce(NEW.name, ''),"
            + " coalesce(pe.path, ''), coalesce(pe.sha256, ''), coalesce(NEW.pname, ''), NEW.uid,"
            + " coalesce(NEW.user, ''), coalesce(NEW.container, '')";

    static final List<String> MIGRATION = migration();

    private Rollups() {
    }

    /** A per-(bucket, identity, domain) sum table: the hour, day and week levels share its shape. */
    private static String domainTable(String name) {
        return """
                CREATE TABLE %s (
                    bucket  INTEGER NOT NULL,
                    rid     INTEGER NOT NULL,
                    domain  TEXT NOT NULL,
                    sent    INTEGER NOT NULL,
                    recv    INTEGER NOT NULL,
                    conns   INTEGER NOT NULL,
                    windows INTEGER NOT NULL,
                    PRIMARY KEY (bucket, rid, domain)
                ) STRICT, WITHOUT ROWID""".formatted(name);
    }

    /** A per-(bucket, one integer key) sum table: the identity tables and the destination ones (schema 8). */
    static String sumsTable(String name, String key) {
        return """
                CREATE TABLE %s (
                    bucket  INTEGER NOT NULL,
                    %-8sINTEGER NOT NULL,
                    sent    INTEGER NOT NULL,
                    recv    INTEGER NOT NULL,
                    conns   INTEGER NOT NULL,
                    windows INTEGER NOT NULL,
                    PRIMARY KEY (bucket, %s)
                ) STRICT, WITHOUT ROWID""".formatted(name, key, key);
    }

    private static List<String> migration() {
        List<String> s = new ArrayList<>();
        s.add("""
                CREATE TABLE meta (
                    key   TEXT PRIMARY KEY,
                    value ANY
                ) STRICT, WITHOUT ROWID""");
        s.add("INSERT INTO meta (key, value) VALUES ('" + DB_ID_KEY + "', lower(hex(randomblob(16))))");
        s.add("INSERT INTO meta (key, value) VALUES ('" + OUTBOX_KEY + "', 0)");
        s.add("""
                CREATE TABLE rollup_idents (
                    id        INTEGER PRIMARY KEY,
                    exe       TEXT NOT NULL,
                    sha256    TEXT NOT NULL,
                    name      TEXT NOT NULL,
                    pexe      TEXT NOT NULL,
                    psha256   TEXT NOT NULL,
                    pname     TEXT NOT NULL,
                    uid       INTEGER NOT NULL,
                    user      TEXT NOT NULL,
                    container TEXT NOT NULL
                ) STRICT""");
        s.add("CREATE UNIQUE INDEX rollup_idents_key ON rollup_idents"
                + " (exe, sha256, name, pexe, psha256, pname, uid, user, container)");
        s.add("CREATE INDEX rollup_idents_name ON rollup_idents (name)");
        s.add("CREATE INDEX rollup_idents_uid ON rollup_idents (uid)");
        // The idents row remembers its rollup identity, so the flows trigger needs one lookup by primary key.
        s.add("ALTER TABLE idents ADD COLUMN rollup_id INTEGER");
        for (Level l : Level.values()) {
            s.add("""
                    CREATE TABLE %s (
                        bucket INTEGER NOT NULL,
                        rid    INTEGER NOT NULL,
                        proto  TEXT NOT NULL,
                        family INTEGER NOT NULL,
                        raddr  TEXT NOT NULL,
                        rport  INTEGER NOT NULL,
                        domain TEXT NOT NULL,
                        sent   INTEGER NOT NULL,
                        recv   INTEGER NOT NULL,
                        conns  INTEGER NOT NULL,
                        windows INTEGER NOT NULL,
                        PRIMARY KEY (bucket, rid, proto, family, raddr, rport, domain)
                    ) STRICT, WITHOUT ROWID""".formatted(l.table));
            if (l.identTable != null) {
                s.add(sumsTable(l.identTable, "rid"));
                s.add(domainTable(l.domainTable));
            }
        }
        s.add(domainTable(WEEK_DOMAIN));
        // For retention: whether an idents row still refers to a rollup identity.
        s.add("CREATE INDEX idents_rollup ON idents (rollup_id)");
        // Existing history first, then the triggers that keep everything from here on.
        s.add("INSERT INTO rollup_idents (exe, sha256, name, pexe, psha256, pname, uid, user, container)"
                + " SELECT DISTINCT coalesce(e.path, ''), coalesce(e.sha256, ''), coalesce(i.name, ''),"
                + " coalesce(pe.path, ''), coalesce(pe.sha256, ''), coalesce(i.pname, ''), i.uid,"
                + " coalesce(i.user, ''), coalesce(i.container, '')"
                + " FROM idents i JOIN exes e ON e.id = i.exe_id JOIN exes pe ON pe.id = i.pexe_id");
        s.add("UPDATE idents SET rollup_id = (SELECT r.id FROM rollup_idents r, exes e, exes pe"
                + " WHERE e.id = idents.exe_id AND pe.id = idents.pexe_id AND " + identMatch("idents") + ")");
        for (Level l : Level.values()) {
            s.add("INSERT INTO " + l.table + " SELECT " + bucket("f.time", l) + ", coalesce(i.rollup_id, 0), coalesce(f.proto, ''),"
                    + " f.family, coalesce(f.raddr, ''), f.rport, coalesce(f.domain, ''),"
                    + " sum(f.sent), sum(f.recv), sum(f.conns), count(*)"
                    + " FROM flows f JOIN idents i ON i.id = f.ident_id GROUP BY 1, 2, 3, 4, 5, 6, 7");
            if (l.identTable != null) {
                s.add("INSERT INTO " + l.identTable + " SELECT bucket, rid, sum(sent), sum(recv), sum(conns), sum(windows)"
                        + " FROM " + l.table + " GROUP BY 1, 2");
                s.add("INSERT INTO " + l.domainTable + " SELECT bucket, rid, domain, sum(sent), sum(recv), sum(conns),"
                        + " sum(windows) FROM " + l.table + " GROUP BY 1, 2, 3");
            }
        }
        s.add("INSERT INTO " + WEEK_DOMAIN + " SELECT " + weekBucket("bucket") + ", rid, domain, sum(sent), sum(recv),"
                + " sum(conns), sum(windows) FROM " + Level.DAY.domainTable + " GROUP BY 1, 2, 3");
        s.add("""
                CREATE TRIGGER idents_rollup AFTER INSERT ON idents BEGIN
                    INSERT INTO rollup_idents (exe, sha256, name, pexe, psha256, pname, uid, user, container)
                        SELECT %s FROM exes e, exes pe WHERE e.id = NEW.exe_id AND pe.id = NEW.pexe_id
                        ON CONFLICT DO NOTHING;
                    UPDATE idents SET rollup_id = (SELECT r.id FROM rollup_idents r, exes e, exes pe
                        WHERE e.id = NEW.exe_id AND pe.id = NEW.pexe_id AND %s)
                        WHERE id = NEW.id;
                END""".formatted(IDENT_VALUES, identMatch("NEW")));
        s.addAll(rollupTriggers(Source.FLOWS_TABLE));
        s.add("""
                CREATE TABLE outbox (
                    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
                    time              INTEGER NOT NULL,
                    exe               TEXT,
                    name              TEXT,
                    cmdline           TEXT,
                    sha256            TEXT,
                    pid               INTEGER NOT NULL,
                    pexe              TEXT,
                    pname             TEXT,
                    pcmdline          TEXT,
                    psha256           TEXT,
                    ppid              INTEGER NOT NULL,
                    uid               INTEGER NOT NULL,
                    user              TEXT,
                    cgroup            TEXT,
                    container         TEXT,
                    proto             TEXT,
                    family            INTEGER NOT NULL,
                    laddr             TEXT,
                    lport             INTEGER NOT NULL,
                    raddr             TEXT,
                    rport             INTEGER NOT NULL,
                    domain            TEXT,
                    domain_source     TEXT,
                    domain_confidence TEXT,
                    sent              INTEGER NOT NULL,
                    recv              INTEGER NOT NULL,
                    conns             INTEGER NOT NULL
                ) STRICT""");
        s.addAll(outboxTriggers(Source.FLOWS_TABLE));
        return List.copyOf(s);
    }

    /**
     * Where the triggers find a stored row's columns: {@code d} prefixes the destination
     * columns (proto, family, addresses, domain...), {@code from} ends the SELECT that reads
     * them (it always has a WHERE, which an upsert's SELECT needs), and {@code join} is added
     * to the outbox's identity join.
     */
    record Source(String table, String d, String from, String join) {
        /** Schema 6: every column on the flows row itself. */
        static final Source FLOWS_TABLE = new Source("flows", "NEW.", " WHERE true", "");
        /** Schema 7: the destination columns live in {@code dests}, one lookup by primary key. */
        static final Source WINDOWS = new Source(FlowTables.WINDOWS, "d.", " FROM dests d WHERE d.id = NEW.dest_id",
                " JOIN dests d ON d.id = NEW.dest_id");
    }

    /** Triggers that add every stored row (and every merge into one) to all the rollups. */
    static List<String> rollupTriggers(Source src) {
        StringBuilder ins = new StringBuilder("CREATE TRIGGER " + src.table() + "_rollup_insert AFTER INSERT ON "
                + src.table() + " BEGIN\n");
        StringBuilder upd = new StringBuilder("CREATE TRIGGER " + src.table() + "_rollup_update AFTER UPDATE OF sent,"
                + " recv, conns ON " + src.table() + " BEGIN\n");
        for (Level l : Level.values()) {
            ins.append(upsert(src, l, "NEW.sent", "NEW.recv", "NEW.conns", "1"));
            upd.append(upsert(src, l, "NEW.sent - OLD.sent", "NEW.recv - OLD.recv", "NEW.conns - OLD.conns", "0"));
        }
        ins.append(weekUpsert(src, "NEW.sent", "NEW.recv", "NEW.conns", "1"));
        upd.append(weekUpsert(src, "NEW.sent - OLD.sent", "NEW.recv - OLD.recv", "NEW.conns - OLD.conns", "0"));
        return List.of(ins.append("END").toString(), upd.append("END").toString());
    }

    /**
     * Copies of stored rows for the off-host mirror, written in the same transaction as the
     * rows, so a crash can neither lose one nor queue one that was not stored. An upsert that
     * merges into an existing row queues only the difference.
     */
    static List<String> outboxTriggers(Source src) {
        String when = " WHEN (SELECT value FROM meta WHERE key = '" + OUTBOX_KEY + "') = 1 BEGIN\n";
        return List.of("CREATE TRIGGER " + src.table() + "_outbox_insert AFTER INSERT ON " + src.table() + when
                        + outboxInsert(src, "NEW.sent", "NEW.recv", "NEW.conns") + "END",
                "CREATE TRIGGER " + src.table() + "_outbox_update AFTER UPDATE OF sent, recv, conns ON " + src.table()
                        + when + outboxInsert(src, "NEW.sent - OLD.sent", "NEW.recv - OLD.recv", "NEW.conns - OLD.conns")
                        + "END");
    }

    /** Start of the bucket holding {@code time} (also right for times before 1970). */
    static String bucket(String time, Level l) {
        return "(" + time + " - ((" + time + " % " + l.seconds + ") + " + l.seconds + ") % " + l.seconds + ")";
    }

    /** Start of the week (Monday 00:00 UTC) holding {@code time}. */
    static String weekBucket(String time) {
        return "(" + time + " - (((" + time + " - " + WEEK_OFFSET + ") % " + WEEK + ") + " + WEEK + ") % " + WEEK + ")";
    }

    private static String weekUpsert(Source src, String sent, String recv, String conns, String windows) {
        return "    INSERT INTO " + WEEK_DOMAIN + " (bucket, rid, domain, sent, recv, conns, windows) SELECT "
                + weekBucket("NEW.time") + ", coalesce((SELECT rollup_id FROM idents WHERE id = NEW.ident_id), 0),"
                + " coalesce(" + src.d() + "domain, ''), " + sent + ", " + recv + ", " + conns + ", " + windows + src.from()
                + " ON CONFLICT DO UPDATE SET sent = sent + excluded.sent, recv = recv + excluded.recv,"
                + " conns = conns + excluded.conns, windows = windows + excluded.windows;\n";
    }

    private static String identMatch(String ident) {
        return "r.exe = coalesce(e.path, '') AND r.sha256 = coalesce(e.sha256, '')"
                + " AND r.name = coalesce(" + ident + ".name, '') AND r.pexe = coalesce(pe.path, '')"
                + " AND r.psha256 = coalesce(pe.sha256, '') AND r.pname = coalesce(" + ident + ".pname, '')"
                + " AND r.uid = " + ident + ".uid AND r.user = coalesce(" + ident + ".user, '')"
                + " AND r.container = coalesce(" + ident + ".container, '')";
    }

    private static String upsert(Source src, Level l, String sent, String recv, String conns, String windows) {
        String rid = "coalesce((SELECT rollup_id FROM idents WHERE id = NEW.ident_id), 0)";
        String d = src.d();
        String sums = " " + sent + ", " + recv + ", " + conns + ", " + windows + src.from()
                + " ON CONFLICT DO UPDATE SET sent = sent + excluded.sent, recv = recv + excluded.recv,"
                + " conns = conns + excluded.conns, windows = windows + excluded.windows;\n";
        String narrow = l.identTable == null ? ""
                : "    INSERT INTO " + l.identTable + " (bucket, rid, sent, recv, conns, windows) SELECT "
                        + bucket("NEW.time", l) + ", " + rid + "," + sums
                + "    INSERT INTO " + l.domainTable + " (bucket, rid, domain, sent, recv, conns, windows) SELECT "
                        + bucket("NEW.time", l) + ", " + rid + ", coalesce(" + d + "domain, '')," + sums;
        return narrow + "    INSERT INTO " + l.table + " (bucket, rid, proto, family, raddr, rport, domain, sent, recv, conns, windows)"
                + " SELECT " + bucket("NEW.time", l) + ", " + rid + ", coalesce(" + d + "proto, ''), " + d + "family,"
                + " coalesce(" + d + "raddr, ''), " + d + "rport, coalesce(" + d + "domain, '')," + sums;
    }

    private static String outboxInsert(Source src, String sent, String recv, String conns) {
        String d = src.d();
        return "    INSERT INTO outbox (" + OUTBOX_COLUMNS + ")"
                + " SELECT NEW.time, e.path, i.name, i.cmdline, e.sha256, NEW.pid, pe.path, i.pname, i.pcmdline,"
                + " pe.sha256, NEW.ppid, i.uid, i.user, i.cgroup, i.container, " + d + "proto, " + d + "family, "
                + d + "laddr, NEW.lport, " + d + "raddr, " + d + "rport, " + d + "domain, " + d + "domain_source, "
                + d + "domain_confidence, " + sent + ", " + recv + ", " + conns
                + " FROM idents i JOIN exes e ON e.id = i.exe_id JOIN exes pe ON pe.id = i.pexe_id" + src.join()
                + " WHERE i.id = NEW.ident_id;\n";
    }
}

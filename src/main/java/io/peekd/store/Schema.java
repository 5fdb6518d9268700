package io.peekd.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

/**
 * The database layout and how to get there from any older one. {@code PRAGMA user_version}
 * holds the number of migration steps applied; {@code application_id} marks the file as ours.
 */
final class Schema {

    /** 'peek' in ASCII, so that {@code file(1)} and our own checks can tell the file apart. */
    static final int APPLICATION_ID = 0x7065656B;

    /**
     * One step from {@code version - 1} to {@code version}, applied in one transaction
     * together with the new user_version, so that a failed step leaves the old version.
     */
    record Migration(int version, String summary, List<String> statements) {
    }

    /*
     * SQLite treats NULLs as distinct in UNIQUE indexes, which would stop rows with an
     * unknown domain or address from ever merging. The keys therefore index
     * coalesce(col, x'00'): a blob never equals a text value, so NULL stays apart from ''
     * and NULLs collide with each other. Upserts name the same expressions.
     */
    static final String FLOW_KEY = "time, ident_id, pid, ppid, coalesce(proto, x'00'), family,"
            + " coalesce(laddr, x'00'), lport, coalesce(raddr, x'00'), rport, coalesce(domain, x'00'),"
            + " coalesce(domain_source, x'00'), coalesce(domain_confidence, x'00')";
    static final String EXE_KEY = "coalesce(path, x'00'), coalesce(sha256, x'00')";
    static final String IDENT_KEY = "exe_id, coalesce(name, x'00'), coalesce(cmdline, x'00'), pexe_id,"
            + " coalesce(pname, x'00'), coalesce(pcmdline, x'00'), uid, coalesce(user, x'00'),"
            + " coalesce(container, x'00'), coalesce(cgroup, x'00')";

    /** Version 2 adds the script an interpreter runs to what tells identities apart. */
    static final String IDENT_KEY_V2 = IDENT_KEY + ", coalesce(script_id, 0)";

    static final List<Migration> MIGRATIONS = List.of(
            new Migration(1, "exes, idents and flows", List.of(
                    """
                    CREATE TABLE exes (
                        id     INTEGER PRIMARY KEY,
                        path   TEXT,
                        sha256 TEXT
                    ) STRICT""",
                    "CREATE UNIQUE INDEX exes_key ON exes (" + EXE_KEY + ")",
                    "CREATE INDEX exes_path ON exes (path)",
                    "CREATE INDEX exes_sha256 ON exes (sha256)",
                    """
                    CREATE TABLE idents (
                        id        INTEGER PRIMARY KEY,
                        exe_id    INTEGER NOT NULL REFERENCES exes (id),
                        name      TEXT,
                        cmdline   TEXT,
                        pexe_id   INTEGER NOT NULL REFERENCES exes (id),
                        pname     TEXT,
                        pcmdline  TEXT,
                        uid       INTEGER NOT NULL,
                        user      TEXT,
                        container TEXT,
                        cgroup    TEXT
                    ) STRICT""",
                    "CREATE UNIQUE INDEX idents_key ON idents (" + IDENT_KEY + ")",
                    "CREATE INDEX idents_exe ON idents (exe_id)",
                    "CREATE INDEX idents_pexe ON idents (pexe_id)",
                    "CREATE INDEX idents_name ON idents (name)",
                    """
                    CREATE TABLE flows (
                        time              INTEGER NOT NULL,
                        ident_id          INTEGER NOT NULL REFERENCES idents (id),
                        pid               INTEGER NOT NULL,
                        ppid              INTEGER NOT NULL,
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
                    ) STRICT""",
                    // Leads with time, so it also serves every time-range scan.
                    "CREATE UNIQUE INDEX flows_key ON flows (" + FLOW_KEY + ")",
                    "CREATE INDEX flows_ident_time ON flows (ident_id, time)",
                    "PRAGMA application_id = " + APPLICATION_ID)),
            // Why a domain was (or was not) given: ok, ambiguous, encrypted, none.
            new Migration(2, "flows.domain_status", List.of(
                    "ALTER TABLE flows ADD COLUMN domain_status TEXT")),
            // GeoIP of the remote address as it was when the traffic moved.
            new Migration(3, "flows.country, asn, as_org", List.of(
                    "ALTER TABLE flows ADD COLUMN country TEXT",
                    "ALTER TABLE flows ADD COLUMN asn INTEGER",
                    "ALTER TABLE flows ADD COLUMN as_org TEXT")),
            new Migration(4, "row flags (NEW_EXE, NEW_HASH) and interpreter scripts", List.of(
                    "ALTER TABLE flows ADD COLUMN flags INTEGER NOT NULL DEFAULT 0",
                    "ALTER TABLE idents ADD COLUMN script_id INTEGER REFERENCES exes (id)",
                    "DROP INDEX idents_key",
                    "CREATE UNIQUE INDEX idents_key ON idents (" + IDENT_KEY_V2 + ")",
                    "CREATE INDEX idents_script ON idents (script_id) WHERE script_id IS NOT NULL")),
            // Fired alerts. Time in milliseconds: several alerts may fire within one second.
            new Migration(5, "alert log", List.of(
                    """
                    CREATE TABLE alerts (
                        id         INTEGER PRIMARY KEY,
                        ref        TEXT NOT NULL UNIQUE,
                        time       INTEGER NOT NULL,
                        rule       TEXT NOT NULL,
                        event      TEXT NOT NULL,
                        actions    TEXT NOT NULL,
                        result     TEXT NOT NULL,
                        detail     TEXT,
                        suppressed INTEGER NOT NULL,
                        exe        TEXT,
                        domain     TEXT,
                        raddr      TEXT,
                        rport      INTEGER,
                        flow       TEXT,
                        message    TEXT,
                        finished   INTEGER
                    ) STRICT""",
                    "CREATE INDEX alerts_time ON alerts (time)",
                    "CREATE INDEX alerts_rule_time ON alerts (rule, time)")),
            // Rollups come last: older databases get them built from all their history.
            new Migration(6, "rollups, mirror outbox and meta", Rollups.MIGRATION),
            // Takes about a minute per 10 M windows on an old database, once.
            new Migration(7, "compact flow windows (flow_windows + dests, flows becomes a view)", FlowTables.MIGRATION),
            new Migration(8, "hour and day rollups per destination", DestRollups.MIGRATION),
            new Migration(9, "IPv6 addresses in their short form (::1)", shortAddresses()),
            new Migration(10, "week rollups per destination, pids per identity and day",
                    concat(DestRollups.MIGRATION_10, PidDays.MIGRATION)),
            new Migration(11, "names of rollup identities whose idents rows retention deleted", RollupNames.MIGRATION));

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new java.util.ArrayList<>(a);
        out.addAll(b);
        return List.copyOf(out);
    }

    static final int CURRENT = MIGRATIONS.size();

    /** The SQL function the address step calls: {@link io.peekd.config.Cidr#canonical}. */
    static final String CANONICAL_ADDRESS = "peekd_address";

    /**
     * Until version 9 IPv6 addresses were stored as Java prints them ({@code 0:0:0:0:0:0:0:1});
     * now in the RFC 5952 form that users read and type ({@code ::1}). The step rewrites every
     * stored copy, so that old and new rows of one peer stay one destination. The mapping is
     * one to one, so no unique key can collide.
     */
    private static List<String> shortAddresses() {
        List<String> out = new java.util.ArrayList<>();
        String[][] columns = {{"dests", "raddr"}, {"dests", "laddr"}, {"rollup_minute", "raddr"}, {"rollup_hour", "raddr"},
                {"rollup_day", "raddr"}, {"rollup_dests", "raddr"}, {"outbox", "raddr"}, {"outbox", "laddr"},
                {"alerts", "raddr"}};
        for (String[] c : columns) {
            out.add("UPDATE %s SET %s = %s(%s) WHERE %s LIKE '%%:%%'".formatted(c[0], c[1], CANONICAL_ADDRESS, c[1], c[1]));
        }
        return List.copyOf(out);
    }

    private Schema() {
    }

    /** Brings the database to {@link #CURRENT}, or refuses a file that is not ours or is newer. */
    static void migrate(Connection c, Path file) throws SQLException {
        migrate(c, file, MIGRATIONS);
    }

    static void migrate(Connection c, Path file, List<Migration> steps) throws SQLException {
        for (int i = 0; i < steps.size(); i++) {
            if (steps.get(i).version() != i + 1) {
                throw new IllegalStateException("migration " + i + " has version " + steps.get(i).version());
            }
        }
        int version = check(c, file, steps.size());
        if (version == 0 && tableCount(c) == 0) {
            // Only possible before the first table exists: lets `peekd db vacuum` free pages in
            // short steps later instead of rewriting the whole file under the write lock.
            // The file already has its header (the switch to WAL wrote it), so the new mode only
            // takes effect through a VACUUM, which costs nothing while the file is empty.
            try (Statement st = c.createStatement()) {
                st.execute("PRAGMA auto_vacuum = INCREMENTAL");
                st.execute("VACUUM");
            }
        }
        if (version < steps.size()) {
            org.sqlite.Function.create(c.unwrap(org.sqlite.SQLiteConnection.class), CANONICAL_ADDRESS,
                    new org.sqlite.Function() {
                        @Override
                        protected void xFunc() throws SQLException {
                            result(io.peekd.config.Cidr.canonical(value_text(0)));
                        }
                    }, 1, org.sqlite.Function.FLAG_DETERMINISTIC);
        }
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            for (Migration m : steps.subList(version, steps.size())) {
                try (Statement st = c.createStatement()) {
                    for (String sql : m.statements()) {
                        st.execute(sql);
                    }
                    st.execute("PRAGMA user_version = " + m.version());
                    c.commit();
                } catch (SQLException e) {
                    c.rollback();
                    throw new StoreException("cannot upgrade " + file + " to schema version " + m.version()
                            + " (" + m.summary() + "): " + Sqlite.describe(e)
                            + "; the database was left at version " + userVersion(c), e);
                }
            }
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /**
     * Returns the file's schema version after checking that it is ours and not newer than
     * {@code supported}. An empty file is version 0.
     */
    static int check(Connection c, Path file, int supported) throws SQLException {
        int version = userVersion(c);
        int appId = pragmaInt(c, "application_id");
        if (version == 0 && appId == 0) {
            if (tableCount(c) > 0) {
                throw new StoreException(file + " is an SQLite database but not a peekd one;"
                        + " point [paths] data_dir elsewhere or move the file away");
            }
            return 0;
        }
        if (appId != APPLICATION_ID) {
            throw new StoreException(file + " is not a peekd database (application_id " + appId
                    + "); point [paths] data_dir elsewhere or move the file away");
        }
        if (version > supported) {
            throw new StoreException(file + " has schema version " + version + " but this peekd understands"
                    + " versions up to " + supported + "; it was written by a newer peekd."
                    + " Upgrade peekd, or move the file away to start a new history");
        }
        return version;
    }

    static int userVersion(Connection c) throws SQLException {
        return pragmaInt(c, "user_version");
    }

    private static int pragmaInt(Connection c, String pragma) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA " + pragma)) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }

    private static int tableCount(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM sqlite_schema")) {
            return rs.next() ? rs.getInt(1) : 0;
        }
    }
}

package io.peekd.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.function.Consumer;
import java.util.function.Supplier;

import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;

/**
 * A read-only view of a peekd database. It cannot write even by mistake (the connection is
 * opened read-only and {@code query_only}), and in WAL mode it reads a consistent snapshot
 * while the writer commits. One Reader is safe to share between threads; calls take turns.
 */
public final class Reader implements AutoCloseable {

    /**
     * Stored rows of {@code flows f} in time order, ties broken by the rest of the window's key
     * (the windows table has no rowid): the same order on every read.
     */
    public static String rowOrder(boolean descending) {
        StringBuilder sb = new StringBuilder();
        for (String col : FlowTables.WINDOW_KEY.split(", ")) {
            if (!sb.isEmpty()) sb.append(", ");
            sb.append("f.").append(col).append(descending ? " DESC" : "");
        }
        return sb.toString();
    }

    private static final Duration BUSY_TIMEOUT = Duration.ofSeconds(5);

    private static final String FROM = " FROM flows f JOIN idents i ON i.id = f.ident_id"
            + " JOIN exes e ON e.id = i.exe_id JOIN exes pe ON pe.id = i.pexe_id"
            + " LEFT JOIN exes se ON se.id = i.script_id";

    private final Path file;
    private final Connection c;

    private Reader(Path file, Connection c) {
        this.file = file;
        this.c = c;
    }

    /**
     * @throws StoreException when the file is missing, not a peekd database, or of another
     *         schema version than this peekd writes
     */
    public static Reader open(Path dbFile) {
        Path file = dbFile.toAbsolutePath().normalize();
        if (!Files.isRegularFile(file)) {
            throw new StoreException("no peekd database at " + file + "; has the daemon run with this data_dir?");
        }
        Sqlite.prepareNativeTmpdir(file.getParent());
        Connection c = null;
        try {
            c = Sqlite.openReader(file, BUSY_TIMEOUT);
            int version = Schema.check(c, file, Schema.CURRENT);
            if (version == 0) {
                throw new StoreException(file + " is empty: the daemon has not created its tables yet");
            }
            if (version < Schema.CURRENT) {
                throw new StoreException(file + " has schema version " + version + ", older than " + Schema.CURRENT
                        + "; start the daemon once so that it upgrades the file");
            }
            return new Reader(file, c);
        } catch (SQLException | RuntimeException e) {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // already failing; the first error is the one to report
                }
            }
            if (e instanceof StoreException se) {
                throw se;
            }
            throw new StoreException("cannot read database " + file + ": "
                    + (e instanceof SQLException se ? Sqlite.describe(se) : e.toString()), e);
        }
    }

    /**
     * Matching rows in time order. With a limit, the newest {@code limit} rows (still
     * oldest first), as the tail of a log would show them.
     */
    public synchronized List<FlowRow> query(Query q) {
        return query(q, OptionalInt.empty());
    }

    /** As {@link #query(Query)}, restricted to one user's processes when {@code onlyUid} is set. */
    public synchronized List<FlowRow> query(Query q, OptionalInt onlyUid) {
        List<Object> args = new ArrayList<>();
        String where = where(q, onlyUid, args);
        String sql = "SELECT f.time, e.path, i.name, i.cmdline, e.sha256, f.pid, pe.path, i.pname, i.pcmdline,"
                + " pe.sha256, f.ppid, i.uid, i.user, i.cgroup, i.container, f.proto, f.family, f.laddr, f.lport,"
                + " f.raddr, f.rport, f.domain, f.domain_source, f.domain_confidence, f.sent, f.recv, f.conns,"
                + " f.domain_status, f.country, f.asn, f.as_org, se.path, se.sha256, f.flags" + FROM + where
                + (q.limit() > 0 ? " ORDER BY " + rowOrder(true) + " LIMIT " + q.limit() : " ORDER BY " + rowOrder(false));
        List<FlowRow> rows = new ArrayList<>();
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Identity id = new Identity(rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
                        rs.getInt(6), rs.getString(7), rs.getString(8), rs.getString(9), rs.getString(10),
                        rs.getInt(11), rs.getInt(12), rs.getString(13), rs.getString(14), rs.getString(15),
                        rs.getString(32), rs.getString(33));
                rows.add(new FlowRow(Instant.ofEpochSecond(rs.getLong(1)), id, rs.getString(16), rs.getInt(17),
                        rs.getString(18), rs.getInt(19), rs.getString(20), rs.getInt(21), rs.getString(22),
                        rs.getString(23), rs.getString(24), rs.getLong(25), rs.getLong(26), rs.getLong(27),
                        rs.getString(28), rs.getString(29), rs.getObject(30) == null ? null : rs.getLong(30),
                        rs.getString(31), rs.getInt(34)));
            }
        } catch (SQLException e) {
            throw failure("query", e);
        }
        if (q.limit() > 0) {
            Collections.reverse(rows);
        }
        return rows;
    }

    /** Traffic per executable path and process name, largest total (sent + recv) first. */
    public synchronized List<Totals> sumBytes(Query q) {
        return sumBytes(q, OptionalInt.empty());
    }

    /** As {@link #sumBytes(Query)}, restricted to one user's processes when {@code onlyUid} is set. */
    public synchronized List<Totals> sumBytes(Query q, OptionalInt onlyUid) {
        List<Object> args = new ArrayList<>();
        String sql = "SELECT e.path, i.name, sum(f.sent) AS s, sum(f.recv) AS r, sum(f.conns)" + FROM
                + where(q, onlyUid, args)
                + " GROUP BY e.path, i.name ORDER BY s + r DESC, e.path, i.name"
                + (q.limit() > 0 ? " LIMIT " + q.limit() : "");
        List<Totals> out = new ArrayList<>();
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new Totals(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getLong(5)));
            }
        } catch (SQLException e) {
            throw failure("sum", e);
        }
        return out;
    }

    /**
     * Fired alerts from {@code since} on (null: all), of one rule (null: any), oldest first;
     * with a limit, the newest {@code limit} of them.
     */
    public synchronized List<AlertRecord> alerts(Instant since, String rule, int limit) {
        List<Object> args = new ArrayList<>();
        List<String> terms = new ArrayList<>();
        if (since != null) {
            terms.add("time >= ?");
            args.add(since.toEpochMilli());
        }
        if (rule != null) {
            terms.add("rule = ?");
            args.add(rule);
        }
        String sql = "SELECT ref, time, rule, event, actions, result, detail, suppressed, exe, domain, raddr, rport,"
                + " flow, message, finished FROM alerts" + (terms.isEmpty() ? "" : " WHERE " + String.join(" AND ", terms))
                + (limit > 0 ? " ORDER BY time DESC, id DESC LIMIT " + limit : " ORDER BY time, id");
        List<AlertRecord> out = new ArrayList<>();
        try (PreparedStatement ps = prepare(sql, args); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Integer rport = rs.getObject(12) == null ? null : rs.getInt(12);
                Instant finished = rs.getObject(15) == null ? null : Instant.ofEpochMilli(rs.getLong(15));
                out.add(new AlertRecord(rs.getString(1), Instant.ofEpochMilli(rs.getLong(2)), rs.getString(3),
                        rs.getString(4), rs.getString(5), rs.getString(6), rs.getString(7), rs.getLong(8),
                        rs.getString(9), rs.getString(10), rs.getString(11), rport, rs.getString(13),
                        rs.getString(14), finished));
            }
        } catch (SQLException e) {
            throw failure("alert log query", e);
        }
        if (limit > 0) {
            Collections.reverse(out);
        }
        return out;
    }

    /**
     * Distinct (executable path, domain) pairs of the history, most recently seen first, at
     * most {@code limit}: what the alert engine's on_new_domain already knows.
     */
    public synchronized List<String[]> exeDomains(int limit) {
        String sql = "SELECT e.path, f.domain" + FROM + " WHERE f.domain IS NOT NULL AND e.path IS NOT NULL"
                + " GROUP BY e.path, f.domain ORDER BY max(f.time) DESC LIMIT " + Math.max(1, limit);
        List<String[]> out = new ArrayList<>();
        try (PreparedStatement ps = prepare(sql, List.of()); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(new String[] {rs.getString(1), rs.getString(2)});
            }
        } catch (SQLException e) {
            throw failure("exe/domain query", e);
        }
        return out;
    }

    /** Read-only SQL of a caller's own (the web dashboard's views), run on this reader's connection. */
    @FunctionalInterface
    public interface SqlWork<T> {
        T apply(Connection c) throws SQLException;
    }

    /**
     * Runs {@code work} on this reader's connection, under the reader's lock. The connection
     * is read-only and {@code query_only}, so the work cannot change the database; it must
     * not close the connection or keep it past the call.
     */
    public synchronized <T> T read(SqlWork<T> work) {
        try {
            return work.apply(c);
        } catch (SQLException e) {
            throw failure("read", e);
        }
    }

    public synchronized Stats stats() {
        try {
            // One read transaction, so that the counts agree with each other.
            c.setAutoCommit(false);
            try (Statement st = c.createStatement()) {
                long exes = count(st, "SELECT count(*) FROM exes");
                long idents = count(st, "SELECT count(*) FROM idents");
                // The table under the flows view: counting through the view's join reads every
                // row's destination too (4.5 s against 0.2 s for 10 M windows).
                long flows = count(st, "SELECT count(*) FROM " + FlowTables.WINDOWS);
                Instant oldest = null, newest = null;
                try (ResultSet rs = st.executeQuery("SELECT min(time), max(time) FROM " + FlowTables.WINDOWS)) {
                    if (rs.next() && rs.getObject(1) != null) {
                        oldest = Instant.ofEpochSecond(rs.getLong(1));
                        newest = Instant.ofEpochSecond(rs.getLong(2));
                    }
                }
                int version = Schema.userVersion(c);
                return new Stats(version, exes, idents, flows, size(file), size(Path.of(file + "-wal")),
                        oldest, newest);
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw failure("stats", e);
        }
    }

    /**
     * SQLite's full consistency check ({@code PRAGMA integrity_check}), for
     * {@code peekd check}. Returns {@code ["ok"]} for a sound file, otherwise the problems
     * found. It reads the whole file, so it takes a while on a big history.
     */
    public synchronized List<String> integrityCheck() {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA integrity_check")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        } catch (SQLiteException e) {
            // A damaged page can stop the check itself; that is its answer, not a failure to report it.
            if (e.getResultCode() != null && (e.getResultCode().code & 0xff) == SQLiteErrorCode.SQLITE_CORRUPT.code) {
                return List.of(Sqlite.describe(e));
            }
            throw failure("integrity check", e);
        } catch (SQLException e) {
            throw failure("integrity check", e);
        }
        return out;
    }

    /**
     * Traffic grouped by the report's dimensions, from the coarsest tables that answer the
     * range exactly (see {@link ReportSql}), read in one snapshot.
     */
    public synchronized Report.Result report(Report.Spec spec) {
        return inSnapshot("report", () -> ReportSql.run(c, spec));
    }

    /** Up to {@code limit} rows queued for the mirror after sequence number {@code afterSeq}, oldest first. */
    public synchronized List<Outbox.Entry> outbox(long afterSeq, int limit) {
        return inSnapshot("outbox", () -> Outbox.read(c, afterSeq, limit));
    }

    /** Rollup identities that no day rollup refers to (retention deletes them). */
    synchronized List<Long> unreferencedRollupIdents() {
        return inSnapshot("rollup identities", () -> Retention.unreferenced(c));
    }

    /** Rollup destinations no day row refers to (retention deletes them unless a dests row does). */
    synchronized List<Long> unreferencedRollupDests() {
        return inSnapshot("rollup destinations", () -> Retention.unreferencedDests(c));
    }

    /** This database's random id, fixed when it was created (schema step 2). */
    public synchronized String dbId() {
        return inSnapshot("db id", () -> Outbox.dbId(c));
    }

    /** Rows, size and extent of every table, for {@code peekd db stats}. */
    public synchronized DbStats tableStats() {
        return inSnapshot("stats", () -> DbStats.read(c, file));
    }

    /**
     * Runs {@code work} inside one read transaction whose snapshot is taken when
     * {@code pinner} calls the Runnable it is given. The daemon's RPC uses it to take the
     * snapshot at the instant it copies the rows not stored yet, so that a live query counts
     * each window exactly once: either stored or live, never both, never neither.
     */
    public synchronized <T> T pinned(Consumer<Runnable> pinner, Supplier<T> work) {
        try {
            c.setAutoCommit(false);
            try {
                boolean[] pinned = {false};
                pinner.accept(() -> {
                    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SELECT 1 FROM flows LIMIT 1")) {
                        rs.next();
                        pinned[0] = true;
                    } catch (SQLException e) {
                        throw failure("snapshot", e);
                    }
                });
                if (!pinned[0]) {
                    throw new IllegalStateException("the pinner never took the snapshot");
                }
                return work.get();
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw failure("snapshot", e);
        }
    }

    private interface SnapshotWork<T> {
        T run() throws SQLException;
    }

    private <T> T inSnapshot(String what, SnapshotWork<T> work) {
        try {
            if (!c.getAutoCommit()) {
                return work.run(); // already inside pinned(): keep its snapshot
            }
            c.setAutoCommit(false);
            try {
                return work.run();
            } finally {
                c.rollback();
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw failure(what, e);
        }
    }

    /** Read-only work on the reader's connection; see {@link #readChecked(Work)}. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection readOnly) throws SQLException;
    }

    /**
     * Runs a caller's own read-only SQL (aggregates for {@code peekd view}) on this reader's
     * connection, which is opened read-only and {@code query_only}, so the work cannot write.
     * The work may hand a statement to another thread to {@link java.sql.Statement#cancel()}
     * it; a cancelled query fails with an SQLException, which is rethrown as is.
     */
    public synchronized <T> T readChecked(Work<T> work) throws SQLException {
        return work.run(c);
    }

    @Override
    public synchronized void close() {
        try {
            c.close();
        } catch (SQLException e) {
            throw failure("close", e);
        }
    }

    private static String where(Query q, OptionalInt onlyUid, List<Object> args) {
        List<String> terms = new ArrayList<>();
        if (onlyUid.isPresent()) {
            terms.add("i.uid = ?");
            args.add(onlyUid.getAsInt());
        }
        if (q.since() != null) {
            terms.add("f.time >= ?");
            args.add(ceilSeconds(q.since()));
        }
        if (q.until() != null) {
            terms.add("f.time < ?");
            args.add(ceilSeconds(q.until()));
        }
        if (q.name() != null) {
            terms.add("i.name = ?");
            args.add(q.name());
        }
        if (q.exe() != null) {
            terms.add("e.path = ?");
            args.add(q.exe());
        }
        return terms.isEmpty() ? "" : " WHERE " + String.join(" AND ", terms);
    }

    /**
     * Windows are stored at whole seconds, so "starts at or after t" is "at or after t
     * rounded up", and "starts before t" is "before t rounded up".
     */
    private static long ceilSeconds(Instant t) {
        long s = t.getEpochSecond();
        return t.getNano() == 0 || s == Long.MAX_VALUE ? s : s + 1;
    }

    private PreparedStatement prepare(String sql, List<Object> args) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < args.size(); i++) {
            ps.setObject(i + 1, args.get(i));
        }
        return ps;
    }

    private static long count(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private StoreException failure(String what, SQLException e) {
        return new StoreException(what + " on " + file + " failed: " + Sqlite.describe(e), e);
    }
}

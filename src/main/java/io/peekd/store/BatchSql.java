package io.peekd.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Instant;
import java.util.List;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;

/** The statements of one write connection. Used by the writer thread only. */
final class BatchSql implements AutoCloseable {

    private record ExeKey(String path, String sha256) {
    }

    /** {@code scriptId} 0: no script. */
    private record IdentKey(long exeId, String name, String cmdline, long pexeId, String pname,
                            String pcmdline, int uid, String user, String container, String cgroup, long scriptId) {
    }

    private record DestKey(String proto, int family, String laddr, String raddr, int rport, String domain,
                           String domainSource, String domainConfidence, String domainStatus, String country,
                           Long asn, String asOrg) {
    }

    private static final int CACHE_CAPACITY = 50_000;

    /**
     * {@code dests.last} is moved this far past the row being written, so that a destination
     * in steady use costs one update an hour rather than one per window.
     */
    private static final long LAST_AHEAD = 3_600;

    private static final class Caches {
        final IdCache<ExeKey> exes = new IdCache<>(CACHE_CAPACITY);
        final IdCache<IdentKey> idents = new IdCache<>(CACHE_CAPACITY);
        final IdCache<DestKey> dests = new IdCache<>(CACHE_CAPACITY);
        /** dests.last by dest id, as stored. */
        final IdCache<Long> destLast = new IdCache<>(CACHE_CAPACITY);

        void commit() {
            exes.commit();
            idents.commit();
            dests.commit();
            destLast.commit();
        }

        void rollback() {
            exes.rollback();
            idents.rollback();
            dests.rollback();
            destLast.rollback();
        }

        void clear() {
            exes.clear();
            idents.clear();
            dests.clear();
            destLast.clear();
        }
    }

    private final Connection c;
    private final Caches caches;
    private final PreparedStatement begin;
    private final PreparedStatement commit;
    private final PreparedStatement findExe;
    private final PreparedStatement insertExe;
    private final PreparedStatement findIdent;
    private final PreparedStatement insertIdent;
    private final PreparedStatement findDest;
    private final PreparedStatement insertDest;
    private final PreparedStatement moveDestLast;
    private final PreparedStatement upsertFlow;

    BatchSql(Connection c) throws SQLException {
        this.c = c;
        // Per connection: after a reconnect the file may not be the one the ids came from.
        this.caches = new Caches();
        // Transactions are begun by hand: in JDBC's manual-commit mode sqlite-jdbc opens the next
        // BEGIN IMMEDIATE right after each commit, and would hold the write lock between batches.
        c.setAutoCommit(true);
        begin = c.prepareStatement("BEGIN IMMEDIATE");
        commit = c.prepareStatement("COMMIT");
        // Lookups compare the same coalesce() expressions as the unique indexes, so they use them.
        findExe = c.prepareStatement("SELECT id FROM exes WHERE coalesce(path, x'00') = coalesce(?, x'00')"
                + " AND coalesce(sha256, x'00') = coalesce(?, x'00')");
        insertExe = c.prepareStatement("INSERT INTO exes (path, sha256) VALUES (?, ?) RETURNING id");
        findIdent = c.prepareStatement("SELECT id FROM idents WHERE exe_id = ? AND coalesce(name, x'00') = coalesce(?, x'00')"
                + " AND coalesce(cmdline, x'00') = coalesce(?, x'00') AND pexe_id = ?"
                + " AND coalesce(pname, x'00') = coalesce(?, x'00') AND coalesce(pcmdline, x'00') = coalesce(?, x'00')"
                + " AND uid = ? AND coalesce(user, x'00') = coalesce(?, x'00')"
                + " AND coalesce(container, x'00') = coalesce(?, x'00') AND coalesce(cgroup, x'00') = coalesce(?, x'00')"
                + " AND coalesce(script_id, 0) = ?");
        insertIdent = c.prepareStatement("INSERT INTO idents (exe_id, name, cmdline, pexe_id, pname, pcmdline,"
                + " uid, user, container, cgroup, script_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, nullif(?, 0))"
                + " RETURNING id");
        String cols = String.join(", ", FlowTables.DEST_COLUMNS);
        findDest = c.prepareStatement("SELECT id, last FROM dests WHERE " + FlowTables.destMatch("", col -> "?"));
        insertDest = c.prepareStatement("INSERT INTO dests (" + cols + ", last) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                + " ?, ?, ?) RETURNING id");
        moveDestLast = c.prepareStatement("UPDATE dests SET last = max(last, ?) WHERE id = ?");
        upsertFlow = c.prepareStatement("INSERT INTO " + FlowTables.WINDOWS + " (" + FlowTables.WINDOW_KEY
                + ", sent, recv, conns, flags) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                + " ON CONFLICT (" + FlowTables.WINDOW_KEY + ") DO UPDATE SET sent = sent + excluded.sent,"
                + " recv = recv + excluded.recv, conns = conns + excluded.conns, flags = flags | excluded.flags");
    }

    /** Writes the whole batch in one transaction, or nothing. */
    void write(List<FlowRow> rows) throws SQLException {
        boolean done = false;
        begin.execute();
        try {
            for (FlowRow r : rows) {
                Identity id = r.id();
                long exeId = exeId(id.exe(), id.sha256());
                long pexeId = exeId(id.pexe(), id.psha256());
                long scriptId = id.script() == null ? 0 : exeId(id.script(), id.scriptSha256());
                long identId = identId(new IdentKey(exeId, id.name(), id.cmdline(), pexeId, id.pname(),
                        id.pcmdline(), id.uid(), id.user(), id.container(), id.cgroup(), scriptId));
                long time = r.time().getEpochSecond();
                long destId = destId(new DestKey(r.proto(), r.family(), r.laddr(), r.raddr(), r.rport(), r.domain(),
                        r.domainSource(), r.domainConfidence(), r.domainStatus(), r.country(), r.asn(), r.asOrg()), time);
                int i = 1;
                upsertFlow.setLong(i++, time);
                upsertFlow.setLong(i++, identId);
                upsertFlow.setInt(i++, id.pid());
                upsertFlow.setInt(i++, id.ppid());
                upsertFlow.setLong(i++, destId);
                upsertFlow.setInt(i++, r.lport());
                upsertFlow.setLong(i++, r.sent());
                upsertFlow.setLong(i++, r.recv());
                upsertFlow.setLong(i++, r.conns());
                upsertFlow.setInt(i, r.flags());
                upsertFlow.executeUpdate();
            }
            commit.execute();
            caches.commit();
            done = true;
        } finally {
            if (!done) {
                caches.rollback();
            }
        }
    }

    /**
     * Deletes windows older than {@code cutoff}, then identities and executables that no row
     * refers to any more. Returns the number of flow rows deleted.
     */
    long prune(Instant cutoff) throws SQLException {
        long deleted;
        begin.execute();
        try (PreparedStatement flows = c.prepareStatement("DELETE FROM " + FlowTables.WINDOWS + " WHERE time < ?");
             PreparedStatement dests = c.prepareStatement("DELETE FROM dests WHERE last < ?");
             Statement st = c.createStatement()) {
            flows.setLong(1, cutoff.getEpochSecond() + (cutoff.getNano() > 0 ? 1 : 0));
            deleted = flows.executeUpdate();
            // Every window of a destination is at or before its last: none is left below the cutoff.
            dests.setLong(1, cutoff.getEpochSecond() + (cutoff.getNano() > 0 ? 1 : 0));
            dests.executeUpdate();
            // Every day the cutoff is in or after goes too (see PidDays), before the identities it names.
            try (PreparedStatement pids = c.prepareStatement("DELETE FROM " + PidDays.TABLE + " WHERE bucket < ?")) {
                pids.setLong(1, cutoff.getEpochSecond() + (cutoff.getNano() > 0 ? 1 : 0));
                pids.executeUpdate();
            }
            // The alert log follows the same retention (its times are in milliseconds).
            st.executeUpdate("DELETE FROM alerts WHERE time < " + cutoff.toEpochMilli());
            st.executeUpdate(RollupNames.PRUNE_IDENTS);
            st.executeUpdate(RollupNames.PRUNE_EXES);
            commit.execute();
        } finally {
            // Cached ids may name rows that are gone now.
            caches.clear();
        }
        return deleted;
    }

    private long exeId(String path, String sha256) throws SQLException {
        ExeKey key = new ExeKey(path, sha256);
        Long id = caches.exes.get(key);
        if (id != null) {
            return id;
        }
        text(findExe, 1, path);
        text(findExe, 2, sha256);
        long found = single(findExe);
        if (found < 0) {
            text(insertExe, 1, path);
            text(insertExe, 2, sha256);
            found = single(insertExe);
        }
        caches.exes.stage(key, found);
        return found;
    }

    private long identId(IdentKey k) throws SQLException {
        Long id = caches.idents.get(k);
        if (id != null) {
            return id;
        }
        bindIdent(findIdent, k);
        long found = single(findIdent);
        if (found < 0) {
            bindIdent(insertIdent, k);
            found = single(insertIdent);
        }
        caches.idents.stage(k, found);
        return found;
    }

    /** The destination's id, with its {@code last} moved past {@code time} when needed (see {@link FlowTables}). */
    private long destId(DestKey k, long time) throws SQLException {
        Long id = caches.dests.get(k);
        long found;
        if (id != null) {
            found = id;
        } else {
            bindDest(findDest, k, 1);
            found = -1;
            try (ResultSet rs = findDest.executeQuery()) {
                if (rs.next()) {
                    found = rs.getLong(1);
                    caches.destLast.stage(found, rs.getLong(2));
                }
            }
            if (found < 0) {
                bindDest(insertDest, k, 1);
                insertDest.setLong(FlowTables.DEST_COLUMNS.size() + 1, time + LAST_AHEAD);
                found = single(insertDest);
                caches.destLast.stage(found, time + LAST_AHEAD);
            }
            caches.dests.stage(k, found);
        }
        Long last = caches.destLast.get(found);
        if (last == null || last < time) {
            moveDestLast.setLong(1, time + LAST_AHEAD);
            moveDestLast.setLong(2, found);
            moveDestLast.executeUpdate();
            caches.destLast.stage(found, Math.max(last == null ? Long.MIN_VALUE : last, time + LAST_AHEAD));
        }
        return found;
    }

    private static void bindDest(PreparedStatement ps, DestKey k, int at) throws SQLException {
        int i = at;
        text(ps, i++, k.proto());
        ps.setInt(i++, k.family());
        text(ps, i++, k.laddr());
        text(ps, i++, k.raddr());
        ps.setInt(i++, k.rport());
        text(ps, i++, k.domain());
        text(ps, i++, k.domainSource());
        text(ps, i++, k.domainConfidence());
        text(ps, i++, k.domainStatus());
        text(ps, i++, k.country());
        if (k.asn() == null) ps.setNull(i++, Types.INTEGER);
        else ps.setLong(i++, k.asn());
        text(ps, i, k.asOrg());
    }

    private static void bindIdent(PreparedStatement ps, IdentKey k) throws SQLException {
        ps.setLong(1, k.exeId());
        text(ps, 2, k.name());
        text(ps, 3, k.cmdline());
        ps.setLong(4, k.pexeId());
        text(ps, 5, k.pname());
        text(ps, 6, k.pcmdline());
        ps.setInt(7, k.uid());
        text(ps, 8, k.user());
        text(ps, 9, k.container());
        text(ps, 10, k.cgroup());
        ps.setLong(11, k.scriptId());
    }

    /** The first column of the first row, or -1 when there is none. */
    private static long single(PreparedStatement ps) throws SQLException {
        try (ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }

    private static void text(PreparedStatement ps, int i, String s) throws SQLException {
        if (s == null) {
            ps.setNull(i, Types.VARCHAR);
        } else {
            ps.setString(i, s);
        }
    }

    /** The write connection, for {@link Writer.Task}s. */
    Connection connection() {
        return c;
    }

    /** Called after each task: forget cached ids and end a transaction the task left open. */
    void afterTask() throws SQLException {
        caches.clear();
        if (!c.getAutoCommit()) {
            c.rollback();
            c.setAutoCommit(true);
        } else if (inTransaction()) {
            try (Statement st = c.createStatement()) {
                st.execute("ROLLBACK");
            }
        }
    }

    private boolean inTransaction() {
        // sqlite-jdbc has no accessor; a BEGIN inside a transaction fails, so probe the cheap way.
        try (Statement st = c.createStatement()) {
            st.execute("BEGIN DEFERRED");
            st.execute("COMMIT");
            return false;
        } catch (SQLException e) {
            return true;
        }
    }

    private PreparedStatement insertAlert;
    private PreparedStatement finishAlert;

    /** Adds a fired alert to the alert log (its own transaction: autocommit). */
    void insertAlert(AlertRecord a) throws SQLException {
        if (insertAlert == null) {
            insertAlert = c.prepareStatement("INSERT INTO alerts (ref, time, rule, event, actions, result, detail,"
                    + " suppressed, exe, domain, raddr, rport, flow, message, finished)"
                    + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (ref) DO NOTHING");
        }
        int i = 1;
        insertAlert.setString(i++, a.ref());
        insertAlert.setLong(i++, a.time().toEpochMilli());
        insertAlert.setString(i++, a.rule());
        insertAlert.setString(i++, a.event());
        insertAlert.setString(i++, a.actions());
        insertAlert.setString(i++, a.result());
        text(insertAlert, i++, a.detail());
        insertAlert.setLong(i++, a.suppressed());
        text(insertAlert, i++, a.exe());
        text(insertAlert, i++, a.domain());
        text(insertAlert, i++, a.raddr());
        if (a.rport() == null) insertAlert.setNull(i++, Types.INTEGER);
        else insertAlert.setInt(i++, a.rport());
        text(insertAlert, i++, a.flowJson());
        text(insertAlert, i++, a.message());
        if (a.finished() == null) insertAlert.setNull(i, Types.INTEGER);
        else insertAlert.setLong(i, a.finished().toEpochMilli());
        insertAlert.executeUpdate();
    }

    /** Records the outcome of an alert's actions. */
    void finishAlert(AlertRecord a) throws SQLException {
        if (finishAlert == null) {
            finishAlert = c.prepareStatement("UPDATE alerts SET result = ?, detail = ?, finished = ? WHERE ref = ?");
        }
        finishAlert.setString(1, a.result());
        text(finishAlert, 2, a.detail());
        if (a.finished() == null) finishAlert.setNull(3, Types.INTEGER);
        else finishAlert.setLong(3, a.finished().toEpochMilli());
        finishAlert.setString(4, a.ref());
        finishAlert.executeUpdate();
    }

    /** Closing rolls back an unfinished transaction; the ids it staged go with it. */
    @Override
    public void close() throws SQLException {
        caches.rollback();
        c.close();
    }
}

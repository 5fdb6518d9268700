package io.peekd.web;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.Reader;
import io.peekd.store.StoreException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A few read-only connections to the history, shared by the request threads, so that a long
 * CSV export does not hold up the charts. Connections are opened on first use: in the daemon
 * the database may not exist yet when the dashboard starts.
 */
final class Db implements AutoCloseable {

    static final String FROM = " FROM flows f JOIN idents i ON i.id = f.ident_id"
            + " JOIN exes e ON e.id = i.exe_id JOIN exes pe ON pe.id = i.pexe_id";

    /** The row columns, in the order {@link #row} reads them. */
    static final String ROW_COLUMNS = "f.time, e.path, i.name, i.cmdline, e.sha256, f.pid, pe.path, i.pname,"
            + " i.pcmdline, pe.sha256, f.ppid, i.uid, i.user, i.cgroup, i.container, f.proto, f.family, f.laddr,"
            + " f.lport, f.raddr, f.rport, f.domain, f.domain_source, f.domain_confidence, f.sent, f.recv, f.conns,"
            + " f.domain_status, f.country, f.asn, f.as_org";

    /** The database is not there (yet) or cannot be read: 503, with the store's message. */
    static final class Unavailable extends RuntimeException {
        Unavailable(String message) {
            super(message);
        }
    }

    private final Path file;
    private final int size;
    private final BlockingQueue<Reader> idle;
    private final AtomicInteger opened = new AtomicInteger();
    private volatile boolean closed;

    Db(Path file, int size) {
        this.file = file;
        this.size = size;
        this.idle = new ArrayBlockingQueue<>(size);
    }

    Path file() {
        return file;
    }

    boolean exists() {
        return Files.isRegularFile(file);
    }

    /** Tables known to exist; a table, once there, stays. */
    private final java.util.Set<String> present = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /**
     * Whether the history has this table (the hour rollups came with schema 6, the destination
     * rollups with 8). Checked until the answer is yes: a dashboard may start before the daemon
     * has created or migrated the database.
     */
    boolean has(String table) {
        if (present.contains(table)) return true;
        if (!exists()) return false;
        boolean there = read(c -> {
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?")) {
                ps.setString(1, table);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next();
                }
            }
        });
        if (there) present.add(table);
        return there;
    }

    <T> T read(Reader.SqlWork<T> work) {
        Reader r = acquire();
        boolean broken = false;
        try {
            return r.read(work);
        } catch (StoreException e) {
            // The file may have been replaced or damaged: do not keep a connection that failed.
            broken = true;
            throw new Unavailable(e.getMessage());
        } finally {
            release(r, broken);
        }
    }

    private Reader acquire() {
        if (closed) throw new Unavailable("the dashboard is shutting down");
        Reader r = idle.poll();
        if (r != null) return r;
        if (opened.incrementAndGet() <= size) {
            try {
                return Reader.open(file);
            } catch (StoreException e) {
                opened.decrementAndGet();
                throw new Unavailable(e.getMessage());
            }
        }
        opened.decrementAndGet();
        try {
            r = idle.poll(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (r == null) throw new Unavailable("the database is busy; try again");
        return r;
    }

    private void release(Reader r, boolean broken) {
        if (broken || closed || !idle.offer(r)) {
            opened.decrementAndGet();
            try {
                r.close();
            } catch (StoreException ignored) {
                // closing a failed connection has nothing left to lose
            }
        }
    }

    static PreparedStatement prepare(Connection c, String sql, List<Object> args) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        for (int i = 0; i < args.size(); i++) ps.setObject(i + 1, args.get(i));
        return ps;
    }

    /** One stored row from the {@link #ROW_COLUMNS} of {@code rs}, starting at column {@code at}. */
    static FlowRow row(ResultSet rs, int at) throws SQLException {
        int c = at;
        Instant t = Instant.ofEpochSecond(rs.getLong(c));
        Identity id = new Identity(rs.getString(c + 1), rs.getString(c + 2), rs.getString(c + 3), rs.getString(c + 4),
                rs.getInt(c + 5), rs.getString(c + 6), rs.getString(c + 7), rs.getString(c + 8), rs.getString(c + 9),
                rs.getInt(c + 10), rs.getInt(c + 11), rs.getString(c + 12), rs.getString(c + 13), rs.getString(c + 14));
        return new FlowRow(t, id, rs.getString(c + 15), rs.getInt(c + 16), rs.getString(c + 17), rs.getInt(c + 18),
                rs.getString(c + 19), rs.getInt(c + 20), rs.getString(c + 21), rs.getString(c + 22),
                rs.getString(c + 23), rs.getLong(c + 24), rs.getLong(c + 25), rs.getLong(c + 26), rs.getString(c + 27),
                rs.getString(c + 28), rs.getObject(c + 29) == null ? null : rs.getLong(c + 29), rs.getString(c + 30));
    }

    @Override
    public void close() {
        closed = true;
        Reader r;
        while ((r = idle.poll()) != null) {
            try {
                r.close();
            } catch (StoreException ignored) {
                // shutting down
            }
        }
    }
}

package io.peekd.store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The writing side of {@code peekd db}: checkpoint, vacuum, migrate, and the outbox switch.
 * Everything runs as writer tasks, so it is ordered with the batches and never needs a
 * second writer; each task is short (a checkpoint, or a few thousand pages of vacuum).
 */
public final class DbOps {

    /** Pages freed per vacuum step: 4 MiB at the default page size, a few milliseconds of work. */
    private static final int VACUUM_STEP_PAGES = 1_024;
    private static final Duration STEP_TIMEOUT = Duration.ofMinutes(2);

    private DbOps() {
    }

    /**
     * @param busy        true when a reader kept part of the log from being copied back
     * @param logPages    pages that were in the write-ahead log
     * @param copiedPages pages copied back into the database file
     */
    public record Checkpoint(boolean busy, long logPages, long copiedPages) {
    }

    /**
     * @param full        true when the file was rewritten as a whole (only with the daemon stopped)
     * @param freedPages  pages given back to the file system
     */
    public record Vacuum(boolean full, long freedPages, long bytesBefore, long bytesAfter) {
    }

    /** Copies the write-ahead log into the database and truncates it; takes the write lock only while copying. */
    public static Checkpoint checkpoint(Writer w) throws InterruptedException {
        return await(w.task("checkpoint", DbOps::checkpoint));
    }

    private static Checkpoint checkpoint(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA wal_checkpoint(TRUNCATE)")) {
            rs.next();
            return new Checkpoint(rs.getInt(1) != 0, rs.getLong(2), rs.getLong(3));
        }
    }

    /**
     * Gives free pages back to the file system. A database created by this peekd frees them
     * in short steps between batches ({@code auto_vacuum = INCREMENTAL}). An older file needs
     * one full rewrite to get there, which holds the write lock for as long as it takes; it
     * is done only when {@code allowFull} (the daemon is stopped), and refused otherwise.
     */
    public static Vacuum vacuum(Writer w, Path file, boolean allowFull) throws InterruptedException {
        long before = size(file);
        int mode = await(w.task("read auto_vacuum", c -> (int) one(c, "PRAGMA auto_vacuum")));
        if (mode != 2) {
            if (!allowFull) {
                throw new StoreException(file + " was created before peekd could vacuum in steps; converting it"
                        + " rewrites the whole file and would stop the daemon's writes meanwhile. Stop the daemon"
                        + " and run `peekd db vacuum` once; later runs work while it runs");
            }
            long freed = await(w.task("full vacuum", c -> {
                long free = one(c, "PRAGMA freelist_count");
                try (Statement st = c.createStatement()) {
                    st.execute("PRAGMA auto_vacuum = INCREMENTAL");
                    st.execute("VACUUM");
                }
                return free;
            }));
            checkpoint(w);
            return new Vacuum(true, freed, before, size(file));
        }
        long freed = 0;
        while (true) {
            long n = await(w.task("incremental vacuum", c -> {
                long free = one(c, "PRAGMA freelist_count");
                if (free == 0) {
                    return 0L;
                }
                try (Statement st = c.createStatement()) {
                    st.execute("PRAGMA incremental_vacuum(" + VACUUM_STEP_PAGES + ")");
                }
                return free - one(c, "PRAGMA freelist_count");
            }));
            if (n <= 0) {
                break;
            }
            freed += n;
        }
        // The freed pages sit in the log until it is copied back and truncated.
        checkpoint(w);
        return new Vacuum(false, freed, before, size(file));
    }

    /** Switches the outbox trigger; rows already queued stay queued. */
    public static void setOutbox(Writer w, boolean on) throws InterruptedException {
        await(w.task("switch outbox " + (on ? "on" : "off"), c -> {
            try (PreparedStatement ps = c.prepareStatement("UPDATE meta SET value = ? WHERE key = ?")) {
                ps.setInt(1, on ? 1 : 0);
                ps.setString(2, Rollups.OUTBOX_KEY);
                return ps.executeUpdate();
            }
        }));
    }

    /** The schema version of a database file without changing it; 0 for an empty file. */
    public static int schemaVersion(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new StoreException("no peekd database at " + file);
        }
        Sqlite.prepareNativeTmpdir(file.toAbsolutePath().getParent());
        try (Connection c = Sqlite.openReader(file, Duration.ofSeconds(5))) {
            return Schema.check(c, file, Integer.MAX_VALUE);
        } catch (SQLException e) {
            throw new StoreException("cannot read " + file + ": " + Sqlite.describe(e), e);
        }
    }

    /** The schema version this peekd writes. */
    public static int currentSchemaVersion() {
        return Schema.CURRENT;
    }

    private static long one(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    private static long size(Path p) {
        try {
            return Files.size(p) + (Files.exists(Path.of(p + "-wal")) ? Files.size(Path.of(p + "-wal")) : 0);
        } catch (java.io.IOException e) {
            return 0;
        }
    }

    static <T> T await(CompletableFuture<T> f) throws InterruptedException {
        try {
            return f.get(STEP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            throw cause instanceof StoreException se ? se : new StoreException(String.valueOf(cause.getMessage()), cause);
        } catch (TimeoutException e) {
            throw new StoreException("the database writer did not get to the request within "
                    + STEP_TIMEOUT.toMinutes() + " minutes (is the disk failing? see `peekd status`)", e);
        }
    }
}

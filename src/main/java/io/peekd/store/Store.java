package io.peekd.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;

/**
 * The peekd database, opened for writing. Only one Store per file may exist at a time,
 * across processes: two writers would each store the same traffic and double every count.
 *
 * <pre>{@code
 * try (Store store = Store.open(dataDir.resolve("peekd.db"))) {
 *     store.writer().submit(rowsOfOneWindow);
 *     ...
 * } // close() stores whatever is still queued
 * }</pre>
 */
public final class Store implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Store.class.getName());
    /**
     * Files open in this JVM. Checked before touching the lock file, because closing any
     * descriptor of a file drops this process's POSIX locks on it, even those taken
     * through another channel.
     */
    private static final Set<Path> OPEN = new HashSet<>();
    private static final Set<PosixFilePermission> OWNER_READ_WRITE = PosixFilePermissions.fromString("rw-------");

    /**
     * Tuning of the writer.
     *
     * @param queueCapacity batches that may wait for the disk; at 5 s windows 4096 is over 5 hours
     * @param submitTimeout longest a {@code submit} waits for room in a full queue
     * @param busyTimeout   how long SQLite waits for a lock held by another connection
     * @param minBackoff    first pause after a failed commit; doubled on each further failure
     * @param maxBackoff    longest pause between retries
     * @param closeTimeout  how long {@link #close()} waits for queued batches to be stored
     */
    public record Options(int queueCapacity, Duration submitTimeout, Duration busyTimeout,
                          Duration minBackoff, Duration maxBackoff, Duration closeTimeout) {

        public Options {
            if (queueCapacity < 1) {
                throw new IllegalArgumentException("queueCapacity must be positive, got " + queueCapacity);
            }
            for (Duration d : new Duration[] {submitTimeout, busyTimeout, minBackoff, maxBackoff, closeTimeout}) {
                Objects.requireNonNull(d, "durations must not be null");
                if (d.isNegative()) {
                    throw new IllegalArgumentException("durations must not be negative: " + d);
                }
            }
            if (minBackoff.isZero() || maxBackoff.compareTo(minBackoff) < 0) {
                throw new IllegalArgumentException("need 0 < minBackoff <= maxBackoff, got "
                        + minBackoff + " and " + maxBackoff);
            }
        }

        public static Options defaults() {
            return new Options(4096, Duration.ofSeconds(2), Duration.ofSeconds(5),
                    Duration.ofMillis(250), Duration.ofSeconds(30), Duration.ofSeconds(20));
        }
    }

    private final Path file;
    private final Options options;
    private final FileChannel lockChannel;
    private final FileLock lock;
    private final Writer writer;
    private boolean closed;

    private Store(Path file, Options options, FileChannel lockChannel, FileLock lock, Writer writer) {
        this.file = file;
        this.options = options;
        this.lockChannel = lockChannel;
        this.lock = lock;
        this.writer = writer;
    }

    public static Store open(Path dbFile) {
        return open(dbFile, Options.defaults());
    }

    /**
     * Opens (creating the file and its directory if needed) and migrates the database, and
     * starts the writer thread.
     *
     * @throws StoreException with an operator-ready message when the file cannot be used
     */
    public static Store open(Path dbFile, Options options) {
        Path file = dbFile.toAbsolutePath().normalize();
        Path dir = file.getParent();
        try {
            if (!Files.isDirectory(dir)) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            }
            if (!Files.exists(file)) {
                // Command lines can hold secrets. SQLite gives -wal and -shm the mode of the main file.
                Files.createFile(file, PosixFilePermissions.asFileAttribute(OWNER_READ_WRITE));
            }
        } catch (FileAlreadyExistsException e) {
            // created meanwhile by someone else; the lock below decides who writes
        } catch (IOException e) {
            throw new StoreException("cannot create " + file + ": " + e, e);
        }
        Sqlite.prepareNativeTmpdir(dir);
        Path lockFile = dir.resolve(file.getFileName() + ".writer-lock");
        synchronized (OPEN) {
            if (!OPEN.add(file)) {
                throw new StoreException(file + " is already open for writing in this process");
            }
        }
        FileChannel ch = null;
        Connection c = null;
        try {
            try {
                ch = FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                        PosixFilePermissions.asFileAttribute(OWNER_READ_WRITE));
            } catch (IOException e) {
                throw new StoreException("cannot open lock file " + lockFile + ": " + e, e);
            }
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                throw new StoreException(file + " is already open for writing by another peekd (lock "
                        + lockFile + " is held); stop it, or give this instance its own [paths] data_dir");
            }
            c = Sqlite.openWriter(file, options.busyTimeout());
            Schema.migrate(c, file);
            Writer w = new Writer(file, c, options);
            w.start();
            return new Store(file, options, ch, lock, w);
        } catch (SQLException | IOException | RuntimeException e) {
            closeQuietly(c);
            closeQuietly(ch);
            synchronized (OPEN) {
                OPEN.remove(file);
            }
            if (e instanceof StoreException se) {
                throw se;
            }
            throw new StoreException("cannot open database " + file + ": "
                    + (e instanceof SQLException se ? Sqlite.describe(se) : e.toString()), e);
        }
    }

    /** The single writer of this store; the same object on every call. */
    public Writer writer() {
        return writer;
    }

    /** A new read-only view of the same file; close it when done. */
    public Reader reader() {
        return Reader.open(file);
    }

    public Path file() {
        return file;
    }

    /**
     * Stores what is queued (waiting up to {@code closeTimeout}), then stops the writer and
     * releases the file. Batches that still could not be stored are reported in the log.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        writer.close(options.closeTimeout());
        try {
            lock.release();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "releasing writer lock of " + file + ": " + e);
        }
        closeQuietly(lockChannel);
        synchronized (OPEN) {
            OPEN.remove(file);
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception e) {
            LOG.log(System.Logger.Level.DEBUG, "close failed", e);
        }
    }
}

package io.peekd.store;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Set;

import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteException;

/** Connection set-up shared by the writer and the readers. */
final class Sqlite {

    static final String TMPDIR_PROPERTY = "org.sqlite.tmpdir";
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
    private static final System.Logger LOG = System.getLogger(Sqlite.class.getName());

    private Sqlite() {
    }

    /**
     * sqlite-jdbc extracts and loads a native library from {@code org.sqlite.tmpdir},
     * falling back to {@code java.io.tmpdir}. A root daemon loading code from a
     * world-writable /tmp invites a planted library, so point it at a directory only we
     * can write, before the first connection loads the driver. A value set by the
     * operator (-Dorg.sqlite.tmpdir) is respected.
     */
    static synchronized void prepareNativeTmpdir(Path dataDir) {
        NativeLibrary.useLastingCopy();
        String current = System.getProperty(TMPDIR_PROPERTY);
        if (current != null) {
            LOG.log(System.Logger.Level.DEBUG, "sqlite native tmpdir already set to {0}", current);
            return;
        }
        Path dir = privateDir(dataDir.resolve("tmp"));
        System.setProperty(TMPDIR_PROPERTY, dir.toString());
    }

    /** Creates {@code dir} as 0700, or checks that an existing one is a real directory we own, and tightens it. */
    static Path privateDir(Path dir) {
        try {
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
            } catch (FileAlreadyExistsException e) {
                if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    throw new StoreException(dir + " exists but is not a directory (or is a symlink);"
                            + " remove it so that peekd can create its private temporary directory");
                }
                int owner = (Integer) Files.getAttribute(dir, "unix:uid", LinkOption.NOFOLLOW_LINKS);
                int self = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
                if (owner != self) {
                    throw new StoreException(dir + " is owned by uid " + owner + ", not by peekd (uid " + self
                            + "); remove it so that peekd can create its private temporary directory");
                }
            }
            // createDirectory's mode is filtered by the umask, and an old directory may be loose.
            Files.setPosixFilePermissions(dir, OWNER_ONLY);
            return dir;
        } catch (IOException e) {
            throw new StoreException("cannot prepare private directory " + dir + ": " + e, e);
        }
    }

    static String url(Path dbFile) {
        String s = dbFile.toString();
        if (s.contains("?")) {
            // sqlite-jdbc would read everything after '?' as connection options.
            throw new StoreException("database path must not contain '?': " + s);
        }
        return "jdbc:sqlite:" + s;
    }

    static Connection openWriter(Path dbFile, Duration busyTimeout) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setJournalMode(SQLiteConfig.JournalMode.WAL);
        config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
        config.setBusyTimeout(millis(busyTimeout));
        config.enforceForeignKeys(true);
        // Take the write lock at BEGIN, so a busy database fails fast and whole, not mid-batch.
        config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
        // Keep SQLite's own scratch files out of /tmp as well.
        config.setTempStore(SQLiteConfig.TempStore.MEMORY);
        Connection c = config.createConnection(url(dbFile));
        try (Statement st = c.createStatement()) {
            // The pragma silently stays "delete" when WAL is impossible; we promised WAL.
            var rs = st.executeQuery("PRAGMA journal_mode");
            String mode = rs.next() ? rs.getString(1) : "?";
            if (!"wal".equalsIgnoreCase(mode)) {
                c.close();
                throw new StoreException("cannot switch " + dbFile + " to WAL mode (journal_mode is " + mode + ")");
            }
        }
        return c;
    }

    static Connection openReader(Path dbFile, Duration busyTimeout) throws SQLException {
        SQLiteConfig config = new SQLiteConfig();
        config.setReadOnly(true);
        config.setBusyTimeout(millis(busyTimeout));
        config.setTempStore(SQLiteConfig.TempStore.MEMORY);
        Connection c = config.createConnection(url(dbFile));
        try (Statement st = c.createStatement()) {
            st.execute("PRAGMA query_only = 1");
        } catch (SQLException e) {
            c.close();
            throw e;
        }
        return c;
    }

    /** One line for the operator. sqlite-jdbc's messages already start with the code, e.g. [SQLITE_FULL]. */
    static String describe(Throwable e) {
        if (e instanceof SQLiteException se && se.getMessage() != null) {
            return se.getMessage();
        }
        return e.getClass().getSimpleName() + ": " + e.getMessage();
    }

    private static int millis(Duration d) {
        return (int) Math.min(Integer.MAX_VALUE, Math.max(0, d.toMillis()));
    }
}

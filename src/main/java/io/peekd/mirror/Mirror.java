package io.peekd.mirror;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.tomlj.Toml;
import org.tomlj.TomlParseResult;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

import io.peekd.config.Config;
import io.peekd.store.Outbox;
import io.peekd.store.Reader;
import io.peekd.store.Store;
import io.peekd.store.StoreException;

/**
 * Copies stored rows to a PostgreSQL or MariaDB/MySQL server ({@code [database.server]}).
 *
 * <p>It reads the outbox in sequence order, inserts a batch in one server transaction,
 * and only after the server committed removes those rows from the outbox. While the server
 * is down, rows wait on disk in the outbox (the local history keeps working), and the
 * mirror retries with backoff; when the server is back they go in the order they were
 * stored. A batch that was committed but not yet acknowledged when the daemon stopped is
 * sent again, and the server's key ({@code host, source_db, seq}) drops the repeat.
 */
public final class Mirror implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Mirror.class.getName());
    private static final Duration IDLE_POLL = Duration.ofMillis(500);
    private static final Duration MIN_BACKOFF = Duration.ofSeconds(1);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    private static final Duration REMINDER = Duration.ofMinutes(10);

    private final Config.Database.Server cfg;
    private final Store store;
    private final String host;
    private final Dialect dialect;
    private final Consumer<String> errors;
    private final Thread thread;
    private final Object wake = new Object();
    private volatile boolean closed;

    private final AtomicLong rowsSent = new AtomicLong();
    private volatile String lastError;
    private volatile Instant lastErrorAt;
    private volatile boolean failing;
    private volatile Instant lastDelivery;

    private HikariDataSource pool;
    private boolean tableReady;

    private Mirror(Config.Database.Server cfg, Store store, String host, Consumer<String> errors) {
        this.cfg = cfg;
        this.store = store;
        this.host = host;
        this.dialect = Dialect.of(cfg.type());
        this.errors = errors;
        this.thread = Thread.ofPlatform().daemon().name("peekd-mirror").unstarted(this::run);
    }

    /**
     * Starts delivering. Nothing here talks to the server yet, so a server that is down (or
     * a credentials file that is wrong) delays delivery but never the daemon's start.
     *
     * @param errors the daemon's error log
     */
    public static Mirror start(Config.Database.Server cfg, Store store, Consumer<String> errors) {
        Mirror m = new Mirror(cfg, store, hostLabel(cfg), errors);
        m.thread.start();
        return m;
    }

    /** The host column: the configured label, or this machine's host name. */
    static String hostLabel(Config.Database.Server cfg) {
        if (!cfg.hostLabel().isEmpty()) {
            return cfg.hostLabel();
        }
        try {
            String h = Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8).strip();
            if (!h.isEmpty()) {
                return h;
            }
        } catch (IOException ignored) {
            // fall back to the JDK's view
        }
        try {
            return java.net.InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "localhost";
        }
    }

    /** Tells the mirror that rows were stored, so it does not wait for its next poll. */
    public void nudge() {
        synchronized (wake) {
            wake.notifyAll();
        }
    }

    /** For metrics.json and {@code peekd status}. */
    public Map<String, Object> metrics() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("type", cfg.type());
        m.put("server", cfg.host() + ":" + cfg.effectivePort() + "/" + cfg.database() + "." + cfg.table());
        m.put("host_label", host);
        m.put("rows_sent", rowsSent.get());
        m.put("failing", failing);
        m.put("last_error", lastError);
        m.put("last_error_at", lastErrorAt == null ? null : lastErrorAt.toString());
        m.put("last_delivery", lastDelivery == null ? null : lastDelivery.toString());
        return m;
    }

    public long rowsSent() {
        return rowsSent.get();
    }

    public boolean failing() {
        return failing;
    }

    private void run() {
        long backoff = MIN_BACKOFF.toMillis();
        long failingSince = 0;
        long lastLogged = 0;
        Reader reader = null;
        String sourceDb = null;
        try {
            while (!closed) {
                try {
                    if (reader == null) {
                        reader = store.reader();
                        sourceDb = reader.dbId();
                    }
                    List<Outbox.Entry> batch = reader.outbox(Long.MIN_VALUE, cfg.batchRows());
                    if (batch.isEmpty()) {
                        idle(IDLE_POLL.toMillis());
                        continue;
                    }
                    deliver(sourceDb, batch);
                    long last = batch.getLast().seq();
                    await(Outbox.ack(store.writer(), last));
                    rowsSent.addAndGet(batch.size());
                    lastDelivery = Instant.now();
                    if (failing) {
                        failing = false;
                        errors.accept("mirror to " + where() + " works again after "
                                + Duration.ofNanos(System.nanoTime() - failingSince).toSeconds()
                                + " s; the rows that waited are being sent in order");
                    }
                    backoff = MIN_BACKOFF.toMillis();
                } catch (SQLException | IOException | RuntimeException | AssertionError | LinkageError e) {
                    // A JDBC driver's own assert (PgJDBC has some, live under -ea) or a class it
                    // cannot link must not end this thread: the mirror would stop for good
                    // without ever saying it is failing.
                    long now = System.nanoTime();
                    String msg = describe(e);
                    lastError = msg;
                    lastErrorAt = Instant.now();
                    if (!failing) {
                        failing = true;
                        failingSince = now;
                        lastLogged = now;
                        errors.accept("mirror to " + where() + " failed: " + msg + ". Nothing is lost: rows wait in the"
                                + " local outbox and are sent when it works again");
                    } else if (now - lastLogged > REMINDER.toNanos()) {
                        lastLogged = now;
                        errors.accept("mirror to " + where() + " still failing: " + msg);
                    }
                    if (e instanceof StoreException && reader != null) {
                        reader.close();
                        reader = null;
                    }
                    tableReady = false;
                    idle(backoff);
                    backoff = Math.min(backoff * 2, MAX_BACKOFF.toMillis());
                }
            }
        } catch (InterruptedException e) {
            // closing
        } finally {
            if (reader != null) {
                try {
                    reader.close();
                } catch (RuntimeException ignored) {
                    // closing anyway
                }
            }
            if (pool != null) {
                Thread.interrupted(); // the interrupt that ended the loop would cut the pool's own shutdown short
                pool.close();
            }
        }
    }

    private void deliver(String sourceDb, List<Outbox.Entry> batch) throws SQLException, IOException {
        HikariDataSource ds = pool();
        try (Connection c = ds.getConnection()) {
            c.setAutoCommit(false);
            try {
                if (!tableReady) {
                    try (Statement st = c.createStatement()) {
                        st.execute(dialect.createTable(cfg.table()));
                    }
                    c.commit();
                    tableReady = true;
                }
                try (PreparedStatement ps = c.prepareStatement(dialect.insert(cfg.table()))) {
                    for (Outbox.Entry e : batch) {
                        dialect.bind(ps, host, sourceDb, e.seq(), e.row());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                c.commit();
            } catch (SQLException | RuntimeException e) {
                try {
                    c.rollback();
                } catch (SQLException ignored) {
                    // the connection is likely gone; the pool drops it
                }
                throw e;
            }
        }
    }

    private HikariDataSource pool() throws IOException {
        if (pool != null) {
            return pool;
        }
        String user = cfg.user(), password = cfg.password();
        if (cfg.credentialsFile() != null) {
            String[] up = credentials(cfg.credentialsFile());
            user = up[0] != null ? up[0] : user;
            password = up[1] != null ? up[1] : password;
        }
        HikariConfig hc = new HikariConfig();
        hc.setPoolName("peekd-mirror");
        hc.setDriverClassName(dialect.driver);
        hc.setJdbcUrl(dialect.url(cfg.host(), cfg.effectivePort(), cfg.database()));
        hc.setUsername(user);
        hc.setPassword(password);
        hc.setMaximumPoolSize(1);
        hc.setMinimumIdle(0);
        hc.setAutoCommit(false);
        // Start without the server: the first use connects, and failures are retried by the loop.
        hc.setInitializationFailTimeout(-1);
        hc.setConnectionTimeout(5_000);
        hc.setValidationTimeout(3_000);
        hc.setMaxLifetime(Duration.ofMinutes(30).toMillis());
        pool = new HikariDataSource(hc);
        return pool;
    }

    /**
     * Reads {@code user} and {@code password} from a TOML file that only its owner, root (or
     * the daemon's own user), can read: a password in a file others can read is not secret.
     */
    static String[] credentials(Path file) throws IOException {
        PosixFileAttributes a;
        try {
            a = Files.readAttributes(file, PosixFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw new IOException("cannot read credentials file " + file + ": " + e.getMessage(), e);
        }
        if (!a.isRegularFile()) {
            throw new IOException("credentials file " + file + " is not a regular file (a symlink is refused too)");
        }
        int owner = (Integer) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int self = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        if (owner != 0 && owner != self) {
            throw new IOException("credentials file " + file + " belongs to uid " + owner + "; it must belong to root");
        }
        var loose = EnumSet.of(PosixFilePermission.GROUP_READ, PosixFilePermission.GROUP_WRITE,
                PosixFilePermission.OTHERS_READ, PosixFilePermission.OTHERS_WRITE);
        loose.retainAll(a.permissions());
        if (!loose.isEmpty()) {
            throw new IOException("credentials file " + file + " can be read or changed by others (" + loose
                    + "); run chmod 600 " + file);
        }
        TomlParseResult t = Toml.parse(Files.readString(file, StandardCharsets.UTF_8));
        if (t.hasErrors()) {
            throw new IOException("credentials file " + file + ": " + t.errors().getFirst().toString()
                    + " (expected lines user = \"...\" and password = \"...\")");
        }
        for (String k : t.keySet()) {
            if (!k.equals("user") && !k.equals("password")) {
                throw new IOException("credentials file " + file + ": unknown key \"" + k + "\" (only user and password)");
            }
        }
        if (t.contains("user") && !t.isString("user") || t.contains("password") && !t.isString("password")) {
            throw new IOException("credentials file " + file + ": user and password must be strings");
        }
        return new String[] {t.getString("user"), t.getString("password")};
    }

    private String where() {
        return cfg.type() + " " + cfg.host() + ":" + cfg.effectivePort() + "/" + cfg.database();
    }

    private static String describe(Throwable e) {
        String m = e.getMessage();
        if (e instanceof SQLException s && s.getNextException() != null) {
            m = m + " (" + s.getNextException().getMessage() + ")";
        }
        return m == null ? e.getClass().getSimpleName() : m.replaceAll("\\s+", " ");
    }

    private void idle(long millis) throws InterruptedException {
        synchronized (wake) {
            if (!closed) {
                wake.wait(millis);
            }
        }
    }

    private static <T> T await(java.util.concurrent.CompletableFuture<T> f) throws InterruptedException {
        try {
            return f.get(2, TimeUnit.MINUTES);
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("the local database writer did not acknowledge delivered rows in time");
        }
    }

    /** Stops after the batch in flight; what is not acknowledged stays queued for the next start. */
    @Override
    public void close() {
        closed = true;
        nudge();
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

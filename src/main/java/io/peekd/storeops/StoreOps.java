package io.peekd.storeops;

import io.peekd.flow.Broadcast;
import io.peekd.mirror.Mirror;
import io.peekd.rpc.RpcServer;
import io.peekd.store.DbOps;
import io.peekd.store.Reader;
import io.peekd.store.Retention;
import io.peekd.store.Store;
import io.peekd.textlog.ConnLog;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The storage operations a running daemon adds to its capture pipeline: retention on a
 * schedule, the RPC socket, the text log and the off-host mirror. One object, so that the
 * daemon starts and stops all of them with one call each.
 */
public final class StoreOps implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(StoreOps.class.getName());
    /** Retention first runs this soon after start, to catch up after downtime. */
    private static final long FIRST_MAINTENANCE_SECONDS = 5;

    private final StoreOpsSettings settings;
    private final Store store;
    private final Consumer<String> errors;
    private final ScheduledExecutorService scheduler;
    private final Mirror mirror;
    private final RpcServer rpc;
    private volatile Retention.Summary lastRetention;
    private volatile Instant lastRetentionAt;

    private StoreOps(StoreOpsSettings settings, Store store, Consumer<String> errors, Mirror mirror, RpcServer rpc) {
        this.settings = settings;
        this.store = store;
        this.errors = errors;
        this.mirror = mirror;
        this.rpc = rpc;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("peekd-maintenance").factory());
    }

    /**
     * Starts everything. Call it before the first window is stored: the outbox is switched
     * on or off here, and a row stored before that would miss the mirror. Failures of one
     * part (socket in use, server unreachable) go to {@code errors} and leave the rest running.
     *
     * @param store  the daemon's store, or null when the history is off
     * @param live   rows of the window not stored yet, for live queries
     * @param errors the daemon's error log
     */
    public static StoreOps start(StoreOpsSettings s, Store store, Broadcast broadcast, RpcServer.LiveRows live,
                                 Consumer<String> errors) {
        Mirror mirror = null;
        if (store != null) {
            try {
                DbOps.setOutbox(store.writer(), s.server().enabled());
                if (!s.server().enabled()) {
                    try (Reader r = store.reader()) {
                        long waiting = r.tableStats().table("outbox").rows();
                        if (waiting > 0) {
                            errors.accept(waiting + " rows wait in the outbox of " + store.file() + " for a mirror that"
                                    + " is no longer configured ([database.server]); they are kept until it is again");
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                errors.accept("cannot switch the mirror outbox: " + e.getMessage());
            }
            if (s.server().enabled()) {
                mirror = Mirror.start(s.server(), store, errors);
            }
        } else if (s.server().enabled()) {
            errors.accept("[database.server] is ignored: the mirror needs database.enabled");
        }
        if (s.textLog()) {
            broadcast.subscribe(new ConnLog(s.logDir(), s.retention().rawDays(), Clock.systemUTC(), errors));
        }
        RpcServer rpc = null;
        try {
            rpc = RpcServer.start(s.socket(), s.readerGroup(), store, live);
        } catch (IOException | RuntimeException e) {
            errors.accept("peekd query and report cannot reach this daemon: " + e.getMessage()
                    + " (they read the database directly instead)");
        }
        StoreOps ops = new StoreOps(s, store, errors, mirror, rpc);
        if (store != null) {
            ops.scheduler.scheduleWithFixedDelay(ops::maintain, FIRST_MAINTENANCE_SECONDS,
                    s.maintenanceInterval().toSeconds(), TimeUnit.SECONDS);
        }
        return ops;
    }

    /** One round of retention; a failure is reported and the next round tries again. */
    void maintain() {
        try {
            lastRetention = Retention.run(store, settings.retention(), Instant.now());
            lastRetentionAt = Instant.now();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            errors.accept("retention failed, tried again in " + settings.maintenanceInterval().toMinutes() + " min: "
                    + e.getMessage());
        }
    }

    /** For metrics.json. */
    public Map<String, Object> metrics() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("rpc_socket", rpc == null ? null : rpc.socket().toString());
        Retention.Summary r = lastRetention;
        m.put("retention_last_run", lastRetentionAt == null ? null : lastRetentionAt.toString());
        m.put("retention_last_deleted", r == null ? null : r.deleted());
        m.put("mirror", mirror == null ? null : mirror.metrics());
        return m;
    }

    /** Lets {@code peekd status} ask the running daemon for its metrics instead of reading a snapshot. */
    public void metricsSource(java.util.function.Supplier<java.util.Map<String, Object>> source) {
        if (rpc != null) rpc.metrics(source);
    }

    @Override
    public void close() {
        if (rpc != null) {
            rpc.close();
        }
        scheduler.shutdownNow();
        try {
            if (!scheduler.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.log(System.Logger.Level.WARNING, "retention still running at shutdown; it continues at the next start");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (mirror != null) {
            mirror.close();
        }
    }
}

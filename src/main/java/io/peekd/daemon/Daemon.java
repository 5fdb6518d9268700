package io.peekd.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.peekd.capture.Capture;
import io.peekd.capture.CaptureStats;
import io.peekd.capture.FlowDelta;
import io.peekd.capture.FlowKey;
import io.peekd.capture.KernelEvent;
import io.peekd.capture.KernelProbe;
import io.peekd.flow.Broadcast;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Subscriber;
import io.peekd.flow.Identity;
import io.peekd.flow.WindowAggregator;
import io.peekd.identity.ProcessTable;
import io.peekd.store.Store;
import io.peekd.storeops.StoreOps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The running daemon: capture → windows → identity → store. One drain thread
 * owns the aggregation; the ring thread only feeds the process table.
 */
public final class Daemon implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private final DaemonSettings settings;
    private final Instant started = Instant.now();
    private final ErrorLog errors;
    private final ProcessTable procs;
    private final Store store;
    private final Capture capture;
    private final WindowAggregator windows;
    private final LossMonitor losses = new LossMonitor();
    private final Broadcast broadcast;
    private final StoreOps ops;
    private final Thread drainThread;
    private volatile boolean running = true;
    private boolean closed;
    private long rowsIgnored;
    private final java.util.ArrayDeque<List<FlowRow>> backlog = new java.util.ArrayDeque<>();

    private Daemon(DaemonSettings s, KernelProbe.Result probe, List<Subscriber> subscribers) throws IOException {
        this.settings = s;
        this.broadcast = new Broadcast(s.channelCapacity());
        subscribers.forEach(broadcast::subscribe);
        for (Path d : List.of(s.dataDir(), s.runDir(), s.logDir())) Files.createDirectories(d);
        this.errors = new ErrorLog(s.errorLog());
        this.procs = ProcessTable.withDefaults();
        this.procs.seedFromProc();
        this.store = s.dbEnabled() ? Store.open(s.db()) : null;
        this.windows = new WindowAggregator(s.window());
        try {
            this.capture = Capture.start(probe, new Capture.Options(s.flowMapEntries(), s.ringBufferKib(),
                    (int) Math.max(60, 300_000 / Math.max(1, s.drainInterval().toMillis()))), this::onEvent);
        } catch (RuntimeException e) {
            if (store != null) store.close();
            throw e;
        }
        // Retention, RPC socket, text log, mirror; before the first window is stored.
        this.ops = StoreOps.start(s.storeOps(), store, broadcast, this::liveRowsPinned, errors::error);
        this.drainThread = Thread.ofPlatform().name("peekd-drain").unstarted(this::drainLoop);
    }

    /** Probes the kernel, loads the programs and starts capturing. */
    public static Daemon start(DaemonSettings s) throws KernelProbe.Unsupported, IOException {
        return start(s, List.of());
    }

    /** As {@link #start(DaemonSettings)}, with subscribers that follow events and stored batches. */
    public static Daemon start(DaemonSettings s, List<Subscriber> subscribers) throws KernelProbe.Unsupported, IOException {
        KernelProbe.Result probe = KernelProbe.probe();
        Daemon d = new Daemon(s, probe, subscribers);
        d.drainThread.start();
        LOG.log(System.Logger.Level.INFO, "peekd capturing with hook set " + probe.hookSet() + " on kernel " + probe.kernel());
        return d;
    }

    private void onEvent(KernelEvent e) {
        switch (e) {
            case KernelEvent.Exec x -> procs.onExec(x);
            case KernelEvent.NewFlow f -> procs.onNewFlow(f);
            case KernelEvent.Exit x -> procs.onExit(x);
            case KernelEvent.Close c -> { }
        }
        if (!(e instanceof KernelEvent.Close)) broadcast.publish(e);
    }

    private void drainLoop() {
        long interval = settings.drainInterval().toMillis();
        while (running) {
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                break;
            }
            try {
                drainOnce();
            } catch (RuntimeException e) {
                errors.error("drain failed, will retry: " + e);
            }
        }
    }

    private synchronized void drainOnce() {
        List<FlowDelta> deltas = capture.drain();
        store(windows.add(Instant.now(), deltas));
        CaptureStats st = capture.stats();
        String loss = losses.check(st);
        if (loss != null) errors.error(loss);
        writeMetrics(st);
    }

    /**
     * Hands closed windows to the writer. A batch the writer cannot take yet
     * (queue full behind a failing disk) stays in the backlog, in order, and is
     * offered again at the next drain: accounted bytes are never dropped.
     */
    private void store(List<WindowAggregator.Window> closed) {
        for (WindowAggregator.Window w : closed) {
            List<FlowRow> rows = rows(w);
            if (rows.isEmpty()) continue;
            broadcast.publish(w.start(), rows);
            if (store != null) backlog.addLast(rows);
        }
        while (store != null && !backlog.isEmpty()) {
            if (!store.writer().submit(backlog.peekFirst())) {
                errors.error("database writer is behind; " + backlog.size() + " windows wait in memory");
                return;
            }
            backlog.removeFirst();
        }
    }

    /** Builds stored rows: identity, privacy options and ignore rules applied. */
    List<FlowRow> rows(WindowAggregator.Window w) {
        List<FlowRow> out = new ArrayList<>(w.flows().size());
        w.flows().forEach((key, c) -> {
            FlowRow r = row(w.start(), key, procs.identify(key), c.sent(), c.recv(), c.conns());
            if (settings.ignore().ignores(r)) rowsIgnored++;
            else out.add(r);
        });
        return out;
    }

    private FlowRow row(Instant time, FlowKey k, Identity id, long sent, long recv, long conns) {
        if (!settings.logCommands() && id != null)
            id = new Identity(id.exe(), id.name(), null, id.sha256(), id.pid(), id.pexe(), id.pname(), null, id.psha256(),
                    id.ppid(), id.uid(), id.user(), id.cgroup(), id.container());
        boolean ip = k.ipVersion() != 0;
        String laddr = ip && settings.logAddresses() ? k.localAddress() : null;
        String raddr = ip && settings.logAddresses() ? k.remoteAddress() : null;
        int lport = ip && settings.logPorts() ? k.lport() : -1;
        int rport = ip && settings.logPorts() ? k.rport() : -1;
        return new FlowRow(time, id, k.protoName(), k.ipVersion(), laddr, lport, raddr, rport, null, null, null,
                sent, recv, conns);
    }

    /** Rows of the open window, not yet stored: what a live query adds to the database. */
    public synchronized List<FlowRow> liveRows() {
        WindowAggregator.Window w = windows.snapshot();
        return w.start() == null ? List.of() : rows(w);
    }

    /**
     * Runs {@code atPin} while no window can close, then returns the open window's rows:
     * what was stored before plus these is everything, each window once (RPC live queries).
     */
    public synchronized List<FlowRow> liveRowsPinned(Runnable atPin) {
        atPin.run();
        return liveRows();
    }

    private void writeMetrics(CaptureStats st) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", ProcessHandle.current().pid());
        m.put("started", started.toString());
        m.put("uptime_seconds", Instant.now().getEpochSecond() - started.getEpochSecond());
        m.put("hook_set", capture.hookSet());
        m.put("flows_tracked", st.flowsTracked());
        m.put("flows_evicted", st.flowsEvicted());
        m.put("losses_total", st.losses());
        m.put("capture", st);
        m.put("rows_ignored", rowsIgnored);
        Map<String, Object> subs = new LinkedHashMap<>();
        broadcast.counters().forEach((name, c) -> subs.put(name, Map.of("dropped", c[0], "failed", c[1], "queued", c[2])));
        m.put("subscribers", subs);
        m.put("storeops", ops.metrics());
        m.put("db", settings.dbEnabled() ? settings.db().toString() : null);
        if (store != null) {
            var ws = store.writer().stats();
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("batches_written", ws.batchesWritten());
            sm.put("rows_written", ws.rowsWritten());
            sm.put("pending_batches", ws.pendingBatches() + backlog.size());
            sm.put("pending_rows", ws.pendingRows());
            sm.put("last_commit_ms", ws.lastCommitLatency() == null ? null : ws.lastCommitLatency().toNanos() / 1e6);
            sm.put("failed_attempts", ws.failedAttempts());
            sm.put("failing", ws.failing());
            sm.put("last_error", ws.lastError());
            sm.put("last_error_at", ws.lastErrorAt() == null ? null : ws.lastErrorAt().toString());
            m.put("store", sm);
        }
        try {
            Path tmp = settings.metrics().resolveSibling("metrics.json.tmp");
            JSON.writeValue(tmp.toFile(), m);
            Files.move(tmp, settings.metrics(), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot write " + settings.metrics() + ": " + e.getMessage());
        }
    }

    /** Blocks until {@link #close} runs (from a signal handler or another thread). */
    public void awaitShutdown() throws InterruptedException {
        drainThread.join();
    }

    /** Final drain, flush of the open window, and detach: SIGINT/SIGTERM land here. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        running = false;
        drainThread.interrupt();
        try {
            drainThread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            synchronized (this) {
                store(windows.add(Instant.now(), capture.drain()));
                store(windows.flush());
            }
        } catch (RuntimeException e) {
            errors.error("final drain failed: " + e);
        }
        capture.close();
        broadcast.close();
        ops.close();
        if (store != null) {
            try {
                store.writer().flush(java.time.Duration.ofSeconds(3));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (!backlog.isEmpty())
                errors.error("shutting down with " + backlog.size() + " windows the database did not take");
            store.close();
        }
        try {
            Files.deleteIfExists(settings.metrics());
        } catch (IOException ignored) {
            // a stale metrics file only misleads `peekd status` until the next start
        }
    }
}

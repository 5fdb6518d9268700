package io.peekd.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.peekd.alert.AlertService;
import io.peekd.capture.Capture;
import io.peekd.capture.CaptureStats;
import io.peekd.capture.FlowDelta;
import io.peekd.capture.FlowKey;
import io.peekd.capture.KernelEvent;
import io.peekd.capture.KernelProbe;
import io.peekd.domain.Attribution;
import io.peekd.domain.DomainResolver;
import io.peekd.domain.GeoIp;
import io.peekd.domain.ReverseLookup;
import io.peekd.flow.Broadcast;
import io.peekd.flow.FlowRow;
import io.peekd.flow.IgnoreRules;
import io.peekd.flow.Subscriber;
import io.peekd.flow.Identity;
import io.peekd.flow.WindowAggregator;
import io.peekd.config.Config;
import io.peekd.identity.ProcessTable;
import io.peekd.metrics.ExeBytes;
import io.peekd.flow.Notice;
import io.peekd.identity.ExeIdentity;
import io.peekd.identity.ExecRows;
import io.peekd.identity.HashGate;
import io.peekd.identity.ProcFs;
import io.peekd.notify.DesktopNotifier;
import io.peekd.virustotal.VirusTotal;
import io.peekd.store.Store;
import io.peekd.storeops.StoreOps;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The running daemon: capture → windows → identity → store. One drain thread
 * owns the aggregation; the ring thread only feeds the process table.
 */
public final class Daemon implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd");
    private static final List<String> EVENT_KINDS = List.of("exec", "new_flow", "exit", "close", "domain_evidence",
            "getaddrinfo");

    private volatile DaemonSettings settings;
    private final Instant started = Instant.now();
    private final ErrorLog errors;
    private final ProcessTable procs;
    private final ExeIdentity exeid;
    private final VirusTotal virustotal;
    private final DesktopNotifier notifier;
    /** every_exe: execs waiting to become rows of the open window (ring thread → drain thread). */
    private final java.util.concurrent.ConcurrentLinkedQueue<FlowKey> execs = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final Store store;
    private final Capture capture;
    private final WindowAggregator windows;
    private final LossMonitor losses = new LossMonitor();
    private final Broadcast broadcast;
    private final ReverseLookup ptr = new ReverseLookup(java.time.Duration.ofSeconds(2));
    private final DomainResolver domains = new DomainResolver(System::nanoTime, ptr);
    private final GeoIp geo;
    private final AlertService alerts;
    private final StoreOps ops;
    private final Thread drainThread;
    private volatile boolean running = true;
    private boolean closed;
    private long rowsIgnored, rowsRecorded, drains;
    private volatile Instant lastDrain;
    private final AtomicLongArray eventCounts = new AtomicLongArray(EVENT_KINDS.size());
    private final MetricsReporter metrics;
    private final List<Reloadable> reloadables = new CopyOnWriteArrayList<>();
    /** Rules of ignore_extra.toml (the dashboard's ignore list), swapped whole on reload. */
    private volatile IgnoreRules extraIgnore = IgnoreRules.none();
    private final java.util.ArrayDeque<List<FlowRow>> backlog = new java.util.ArrayDeque<>();

    private Daemon(DaemonSettings s, KernelProbe.Result probe, List<Subscriber> subscribers) throws IOException {
        this.settings = s;
        this.broadcast = new Broadcast(s.channelCapacity());
        this.geo = s.geoip() != null && s.geoip().enabled() ? GeoIp.open(s.geoip().countryDb(), s.geoip().asnDb()) : GeoIp.disabled();
        subscribers.forEach(broadcast::subscribe);
        ExeBytes exeBytes = new ExeBytes(MetricsReporter.EXE_SLOTS);
        broadcast.subscribe(exeBytes);
        this.metrics = new MetricsReporter(this::stats, exeBytes, s.metrics(), s.metricsInterval());
        var desktop = s.exeid().desktop();
        this.notifier = desktop.notifications()
                ? new DesktopNotifier(DesktopNotifier.Settings.of(desktop.user(), desktop.busAddress())) : null;
        if (notifier != null) {
            broadcast.subscribe(notifier);
            metrics.section("notifications", notifier::counters);
        }
        for (Path d : List.of(s.dataDir(), s.runDir(), s.logDir())) Files.createDirectories(d);
        this.errors = new ErrorLog(s.errorLog());
        errors.listen(m -> broadcast.publish(new Notice(Notice.Severity.ERROR, "error.log", null, m)));
        this.procs = ProcessTable.withDefaults();
        this.procs.seedFromProc();
        this.exeid = ExeIdentity.start(s.exeid(), new ProcFs(), errors::error);
        this.virustotal = s.exeid().virustotal().enabled() ? new VirusTotal(s.exeid().virustotal(), exeid.state(),
                errors::error, n -> {
                    errors.record(n.text());
                    broadcast.publish(n);
                }) : null;
        if (virustotal != null) {
            exeid.gate().onSighting(virustotal::submit);
            metrics.section("virustotal", virustotal::stats);
        }
        metrics.section("exeid", exeid::stats);
        this.store = s.dbEnabled() ? Store.open(s.db()) : null;
        this.windows = new WindowAggregator(s.window());
        this.alerts = AlertService.start(s.alerts(), store, errors::error, new io.peekd.alert.AddressInfo() {
            @Override
            public String country(java.net.InetAddress a) {
                return geo.lookup(a).country();
            }

            @Override
            public Long asn(java.net.InetAddress a) {
                return geo.lookup(a).asn();
            }
        });
        errors.addListener(alerts::onError);
        broadcast.subscribe(alerts);
        try {
            this.capture = Capture.start(probe, new Capture.Options(s.flowMapEntries(), s.ringBufferKib(),
                    (int) Math.max(60, 300_000 / Math.max(1, s.drainInterval().toMillis()))), this::onEvent);
        } catch (RuntimeException e) {
            broadcast.close();
            if (store != null) store.close();
            if (virustotal != null) virustotal.close();
            exeid.close();
            throw e;
        }
        metrics.gauge("capture_fast_path", "1 when sockets count their usual flow in their own counter slot (fast path)",
                () -> capture.fastPath() ? 1 : 0);
        // Retention, RPC socket, text log, mirror; before the first window is stored.
        this.ops = StoreOps.start(s.storeOps(), store, broadcast, this::liveRowsPinned, errors::error);
        ops.metricsSource(metrics::json);
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
        d.metrics.start(s.prometheusPort());
        LOG.log(System.Logger.Level.INFO, "peekd capturing with hook set " + probe.hookSet() + " on kernel " + probe.kernel());
        return d;
    }

    private void onEvent(KernelEvent e) {
        switch (e) {
            case KernelEvent.Exec x -> {
                procs.onExec(x);
                domains.onEvent(x);
                if (settings.exeid().everyExe() && execs.size() < 100_000) execs.add(ExecRows.key(x));
            }
            case KernelEvent.NewFlow f -> {
                procs.onNewFlow(f);
                domains.onEvent(f);
            }
            case KernelEvent.Exit x -> {
                procs.onExit(x);
                domains.onEvent(x);
            }
            case KernelEvent.Close c -> { }
            case KernelEvent.Payload p -> domains.onEvent(p);
            case KernelEvent.Resolved r -> domains.onEvent(r);
        }
        eventCounts.incrementAndGet(switch (e) {
            case KernelEvent.Exec x -> 0;
            case KernelEvent.NewFlow f -> 1;
            case KernelEvent.Exit x -> 2;
            case KernelEvent.Close c -> 3;
            case KernelEvent.Payload p -> 4;
            case KernelEvent.Resolved r -> 5;
        });
        exeid.onEvent(e);
        if (!(e instanceof KernelEvent.Close || e instanceof KernelEvent.Payload)) broadcast.publish(e);
    }

    private void drainLoop() {
        while (running) {
            try {
                Thread.sleep(settings.drainInterval().toMillis());
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
        List<FlowDelta> deltas = new ArrayList<>(capture.drain());
        for (FlowKey k; (k = execs.poll()) != null; ) deltas.add(new FlowDelta(k, 0, 0, 0));
        store(windows.add(Instant.now(), deltas));
        CaptureStats st = capture.stats();
        String loss = losses.check(st);
        if (loss != null) errors.error(loss);
        drains++;
        lastDrain = Instant.now();
    }

    /**
     * Hands closed windows to the writer. A batch the writer cannot take yet
     * (queue full behind a failing disk) stays in the backlog, in order, and is
     * offered again at the next drain: accounted bytes are never dropped.
     */
    private void store(List<WindowAggregator.Window> closed) {
        store(closed, false);
    }

    /**
     * Closed windows wait in the hash gate until their executables are hashed
     * (bounded, see HashGate), then are filtered and handed on, in order.
     */
    private void store(List<WindowAggregator.Window> closed, boolean force) {
        for (WindowAggregator.Window w : closed) exeid.offer(w.start(), keyed(w));
        for (HashGate.Batch b : exeid.poll(force)) {
            List<FlowRow> rows = filter(b.rows());
            if (rows.isEmpty()) continue;
            rowsRecorded += rows.size();
            broadcast.publish(b.window(), rows);
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

    /** Builds rows with identity and privacy options applied; hashes and flags come from the gate. */
    List<HashGate.Keyed> keyed(WindowAggregator.Window w) {
        List<HashGate.Keyed> out = new ArrayList<>(w.flows().size());
        w.flows().forEach((key, c) -> {
            FlowRow r = row(w.start(), key, procs.identify(key), c.sent(), c.recv(), c.conns());
            out.add(new HashGate.Keyed(key, r, procs.parentExe(key)));
        });
        return out;
    }

    /** Ignore rules, applied once hashes are known (ignore_sha256 needs them). */
    private List<FlowRow> filter(List<FlowRow> rows) {
        List<FlowRow> out = new ArrayList<>(rows.size());
        for (FlowRow r : rows) {
            if (settings.ignore().ignores(r) || extraIgnore.ignores(r)) rowsIgnored++;
            else out.add(r);
        }
        return out;
    }

    private FlowRow row(Instant time, FlowKey k, Identity id, long sent, long recv, long conns) {
        if (!settings.logCommands() && id != null)
            id = new Identity(id.exe(), id.name(), null, id.sha256(), id.pid(), id.pexe(), id.pname(), null, id.psha256(),
                    id.ppid(), id.uid(), id.user(), id.cgroup(), id.container());
        if (ExecRows.isExec(k))
            return new FlowRow(time, id, ExecRows.PROTO, 0, null, -1, null, -1, null, null, null, sent, recv, conns);
        boolean ip = k.ipVersion() != 0;
        String laddr = ip && settings.logAddresses() ? k.localAddress() : null;
        String raddr = ip && settings.logAddresses() ? k.remoteAddress() : null;
        int lport = ip && settings.logPorts() ? k.lport() : -1;
        int rport = ip && settings.logPorts() ? k.rport() : -1;
        Attribution d = domains.attribute(k);
        GeoIp.Geo g = ip ? geo.lookup(k.remoteInet()) : new GeoIp.Geo(null, null, null);
        return new FlowRow(time, id, k.protoName(), k.ipVersion(), laddr, lport, raddr, rport, d.domain(), d.source(),
                d.confidence(), sent, recv, conns, d.status(), g.country(), g.asn(), g.asOrg());
    }

    /** The alert rules: reload them, or give them a desktop {@link io.peekd.alert.Notifier}. */
    public AlertService alerts() {
        return alerts;
    }

    /** Replaces the extra ignore rules (hot reload of ignore_extra.toml); applies from the next window built. */
    public void extraIgnore(IgnoreRules rules) {
        extraIgnore = java.util.Objects.requireNonNull(rules, "rules");
    }

    /** Rows of the open window, not yet stored: what a live query adds to the database. */
    public synchronized List<FlowRow> liveRows() {
        WindowAggregator.Window w = windows.snapshot();
        List<FlowRow> all = exeid.live(w.start() == null ? List.of() : keyed(w));
        List<FlowRow> out = new ArrayList<>(all.size());
        for (FlowRow r : all) if (!settings.ignore().ignores(r) && !extraIgnore.ignores(r)) out.add(r);
        return out;
    }

    /**
     * Runs {@code atPin} while no window can close, then returns the open window's rows:
     * what was stored before plus these is everything, each window once (RPC live queries).
     */
    public synchronized List<FlowRow> liveRowsPinned(Runnable atPin) {
        atPin.run();
        return liveRows();
    }

    /** A consistent snapshot of the counters (metrics, watchdog). */
    public DaemonStats stats() {
        CaptureStats st = capture.stats();
        Map<String, Long> events = new LinkedHashMap<>();
        for (int i = 0; i < EVENT_KINDS.size(); i++) events.put(EVENT_KINDS.get(i), eventCounts.get(i));
        long recorded, ignored, drained;
        int backlogSize;
        synchronized (this) {
            recorded = rowsRecorded;
            ignored = rowsIgnored;
            drained = drains;
            backlogSize = backlog.size();
        }
        return new DaemonStats(ProcessHandle.current().pid(), started, capture.hookSet(), st, events, drained, lastDrain,
                recorded, ignored, backlogSize, store == null ? null : settings.db(),
                store == null ? null : store.writer().stats(), broadcast.counters(), procs.size(),
                domains.rejected(), capture.resolverProbe());
    }

    /** Metrics publishing: lets other components add gauges, or the web server serve {@code /metrics}. */
    public MetricsReporter metrics() {
        return metrics;
    }

    /** Runs {@code hook} with the new configuration on every reload (SIGHUP). */
    public void onReload(Reloadable hook) {
        reloadables.add(hook);
    }

    /**
     * Applies a new configuration (SIGHUP): ignore rules, privacy options, drain
     * and metrics intervals, the Prometheus port, and every registered hook.
     * Returns what could not change live (those need a restart); a failing hook
     * is reported there too, and the rest still applies.
     */
    public List<String> reload(Config c) {
        DaemonSettings next = DaemonSettings.from(c);
        List<String> notes = new ArrayList<>(settings.restartNeeded(next));
        settings = settings.withLive(next);
        metrics.reconfigure(next.metricsInterval(), next.prometheusPort());
        for (Reloadable r : reloadables) {
            try {
                r.reload(c);
            } catch (Exception e) {
                notes.add(r + ": " + e.getMessage());
            }
        }
        LOG.log(System.Logger.Level.INFO, "configuration reloaded" + (notes.isEmpty() ? "" : "; not applied: " + notes));
        return notes;
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
            drainThread.join(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            synchronized (this) {
                store(windows.add(Instant.now(), capture.drain()));
                store(windows.flush());
                exeid.awaitHashes(1200); // bounded: the whole stop must fit in systemd's 5 s
                store(List.of(), true);
            }
        } catch (RuntimeException e) {
            errors.error("final drain failed: " + e);
        }
        metrics.close();
        capture.close();
        broadcast.close();
        ptr.close();
        geo.close();
        if (virustotal != null) virustotal.close();
        exeid.close();
        ops.close();
        if (store != null) {
            try {
                store.writer().flush(java.time.Duration.ofMillis(1800));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (!backlog.isEmpty())
                errors.error("shutting down with " + backlog.size() + " windows the database did not take");
            store.close();
        }
    }
}

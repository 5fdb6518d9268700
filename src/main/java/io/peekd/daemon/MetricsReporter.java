package io.peekd.daemon;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.peekd.capture.CaptureStats;
import io.peekd.metrics.ExeBytes;
import io.peekd.metrics.ProcessUsage;
import io.peekd.metrics.PromText;
import io.peekd.metrics.PromText.Type;
import io.peekd.metrics.PrometheusServer;
import io.peekd.store.WriterStats;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Publishes the daemon's counters: {@code run_dir/metrics.json} every
 * {@code [metrics] interval_seconds} (written to a temporary file and renamed,
 * so a reader never sees half a file), and the same numbers plus bytes per
 * executable as Prometheus text on 127.0.0.1:{@code prometheus_port}.
 */
public final class MetricsReporter implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd.metrics");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Per-executable series on /metrics; the rest add up in exe="other". */
    static final int EXE_SLOTS = 50;

    /** A number another component wants published (hash queue, cache sizes...). */
    private record Gauge(String help, LongSupplier value) {
    }

    private final Supplier<DaemonStats> stats;
    private final ExeBytes exeBytes;
    private final Path file;
    private final Map<String, Gauge> gauges = new ConcurrentHashMap<>();
    private final Map<String, java.util.function.Supplier<?>> sections = new ConcurrentHashMap<>();
    private final Thread thread;
    private volatile Duration interval;
    private volatile boolean running = true;
    private PrometheusServer prometheus;
    private boolean warned;

    MetricsReporter(Supplier<DaemonStats> stats, ExeBytes exeBytes, Path file, Duration interval) {
        this.stats = stats;
        this.exeBytes = exeBytes;
        this.file = file;
        this.interval = interval;
        this.thread = Thread.ofPlatform().daemon().name("peekd-metrics").unstarted(this::loop);
    }

    /** Writes the first snapshot now (so {@code peekd status} works at once), then every interval. */
    void start(int prometheusPort) {
        write();
        setPrometheusPort(prometheusPort);
        thread.start();
    }

    private void loop() {
        while (running) {
            try {
                Thread.sleep(interval);
            } catch (InterruptedException e) {
                // close() or a shorter interval from reconfigure(): the loop condition decides
            }
            if (running) write();
        }
    }

    /** SIGHUP: a new interval applies after the current sleep; a new port rebinds. */
    synchronized void reconfigure(Duration interval, int prometheusPort) {
        boolean sooner = interval.compareTo(this.interval) < 0;
        this.interval = interval;
        if (sooner) thread.interrupt();
        int current = prometheus == null ? 0 : prometheus.port();
        if (current != prometheusPort) setPrometheusPort(prometheusPort);
    }

    private synchronized void setPrometheusPort(int port) {
        if (prometheus != null) {
            prometheus.close();
            prometheus = null;
        }
        if (port <= 0) return;
        try {
            prometheus = PrometheusServer.start(port, this::prometheus);
            LOG.log(System.Logger.Level.INFO, "serving Prometheus metrics on http://127.0.0.1:" + prometheus.port() + "/metrics");
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot serve Prometheus metrics on 127.0.0.1:" + port + ": " + e.getMessage()
                    + " (is another program using the port? change [metrics] prometheus_port)");
        }
    }

    /** The port actually bound, or 0 when there is no endpoint. */
    public synchronized int prometheusPort() {
        return prometheus == null ? 0 : prometheus.port();
    }

    /** Publishes a number under {@code peekd_<name>} and in metrics.json's "gauges". */
    public void gauge(String name, String help, LongSupplier value) {
        gauges.put(name, new Gauge(help, value));
    }

    /** Publishes another component's counters as one object in metrics.json (not Prometheus). */
    public void section(String name, java.util.function.Supplier<?> value) {
        sections.put(name, value);
    }

    /** Writes metrics.json now. A failure is logged once per streak and never stops the daemon. */
    void write() {
        try {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            JSON.writeValue(tmp.toFile(), json());
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            warned = false;
        } catch (IOException | RuntimeException e) {
            if (!warned) LOG.log(System.Logger.Level.WARNING, "cannot write " + file + ": " + e.getMessage());
            warned = true;
        }
    }

    /** The metrics.json document. */
    public Map<String, Object> json() {
        DaemonStats s = stats.get();
        CaptureStats c = s.capture();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", s.pid());
        m.put("started", s.started().toString());
        m.put("written", Instant.now().toString());
        m.put("uptime_seconds", Duration.between(s.started(), Instant.now()).toSeconds());
        m.put("hook_set", s.hookSet());
        m.put("flows_tracked", c.flowsTracked());
        m.put("flows_evicted", c.flowsEvicted());
        m.put("losses_total", c.losses());
        m.put("capture", c);
        m.put("events", s.events());
        m.put("losses", losses(s));
        m.put("drains", s.drains());
        m.put("last_drain", s.lastDrain() == null ? null : s.lastDrain().toString());
        m.put("rows_recorded", s.rowsRecorded());
        m.put("rows_ignored", s.rowsIgnored());
        Map<String, Object> subs = new LinkedHashMap<>();
        s.subscribers().forEach((name, v) -> subs.put(name, Map.of("dropped", v[0], "failed", v[1], "queued", v[2])));
        m.put("subscribers", subs);
        m.put("domain_rejected", s.domainRejected());
        m.put("getaddrinfo_probe", s.resolverProbe());
        m.put("db", s.db() == null ? null : s.db().toString());
        WriterStats w = s.writer();
        if (w != null) {
            Map<String, Object> sm = new LinkedHashMap<>();
            sm.put("batches_written", w.batchesWritten());
            sm.put("rows_written", w.rowsWritten());
            sm.put("pending_batches", w.pendingBatches() + s.backlogWindows());
            sm.put("pending_rows", w.pendingRows());
            sm.put("last_commit_ms", w.lastCommitLatency() == null ? null : w.lastCommitLatency().toNanos() / 1e6);
            sm.put("failed_attempts", w.failedAttempts());
            sm.put("rejected_batches", w.rejectedBatches());
            sm.put("failing", w.failing());
            sm.put("last_error", w.lastError());
            sm.put("last_error_at", w.lastErrorAt() == null ? null : w.lastErrorAt().toString());
            m.put("store", sm);
        }
        Map<String, Object> queues = new LinkedHashMap<>();
        queues.put("writer_batches", w == null ? 0 : w.pendingBatches());
        queues.put("backlog_windows", s.backlogWindows());
        s.subscribers().forEach((name, v) -> queues.put("subscriber_" + name, v[2]));
        m.put("queues", queues);
        Map<String, Object> g = new LinkedHashMap<>();
        gauges.forEach((name, gauge) -> g.put(name, read(gauge)));
        // Hashing is another component's: until it registers "hash_queue", say so with null.
        m.put("hash_queue", g.get("hash_queue"));
        Map<String, Object> caches = new LinkedHashMap<>();
        caches.put("processes", s.processes());
        g.forEach((name, v) -> {
            if (name.startsWith("cache_")) caches.put(name.substring(6), v);
        });
        m.put("caches", caches);
        m.put("gauges", g);
        sections.forEach((name, sup) -> {
            try {
                m.put(name, sup.get());
            } catch (RuntimeException e) {
                m.put(name, "unavailable: " + e);
            }
        });
        ProcessUsage u = ProcessUsage.current();
        var heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("rss_bytes", u.rssBytes());
        p.put("cpu_seconds", u.cpuSeconds());
        p.put("threads", u.threads());
        p.put("heap_used_bytes", heap.getUsed());
        p.put("heap_max_bytes", heap.getMax());
        m.put("process", p);
        return m;
    }

    private static Map<String, Long> losses(DaemonStats s) {
        CaptureStats c = s.capture();
        Map<String, Long> l = new LinkedHashMap<>();
        l.put("ring_exec", c.ringDropExec());
        l.put("ring_flow", c.ringDropFlow());
        l.put("ring_other", c.ringDropOther());
        l.put("map_full", c.mapFull());
        l.put("map_full_sent_bytes", c.mapFullSentBytes());
        l.put("map_full_recv_bytes", c.mapFullRecvBytes());
        l.put("socket_state", c.skStorageFail());
        l.put("datagram_address", c.pendingFull());
        l.put("undecodable", c.ringUndecodable());
        l.put("handler_errors", c.ringHandlerErrors());
        return l;
    }

    private static Long read(Gauge g) {
        try {
            return g.value().getAsLong();
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** The Prometheus text exposition of the same numbers, plus bytes per executable. */
    public String prometheus() {
        DaemonStats s = stats.get();
        CaptureStats c = s.capture();
        PromText t = new PromText();
        t.single("peekd_uptime_seconds", Type.GAUGE, "Seconds since the daemon started.",
                Duration.between(s.started(), Instant.now()).toMillis() / 1000.0);
        t.family("peekd_info", Type.GAUGE, "Constant 1, labeled with the hook set in use.")
                .sample(Map.of("hook_set", String.valueOf(s.hookSet())), 1);
        t.family("peekd_events_total", Type.COUNTER, "Kernel events received, by kind.");
        s.events().forEach((k, v) -> t.sample(Map.of("kind", k), v));
        t.family("peekd_syscalls_total", Type.COUNTER, "Send and receive calls the kernel programs counted.")
                .sample(Map.of("direction", "send"), c.sendCalls()).sample(Map.of("direction", "recv"), c.recvCalls());
        t.family("peekd_losses_total", Type.COUNTER, "Events or updates lost, by kind; any growth is also in error.log.");
        losses(s).forEach((k, v) -> {
            if (!k.endsWith("_bytes")) t.sample(Map.of("kind", k), v);
        });
        t.family("peekd_unattributed_bytes_total", Type.COUNTER, "Bytes the kernel could not attribute because the flow map was full.")
                .sample(Map.of("direction", "sent"), c.mapFullSentBytes()).sample(Map.of("direction", "received"), c.mapFullRecvBytes());
        t.single("peekd_flows_tracked", Type.GAUGE, "Flows in the kernel's counter map.", c.flowsTracked());
        t.single("peekd_flows_evicted_total", Type.COUNTER, "Idle or finished flows removed from the kernel map.", c.flowsEvicted());
        t.single("peekd_socket_slots", Type.GAUGE, "Per-socket counter slots of the fast path (0: fast path off).", c.slots());
        t.single("peekd_socket_slots_in_use", Type.GAUGE, "Slots held by open sockets at the last drain.", c.slotsInUse());
        t.single("peekd_socket_slot_misses_total", Type.COUNTER,
                "Calls that found no free slot and were counted, exactly, on the slower hash-map path.", c.slotMisses());
        t.single("peekd_drains_total", Type.COUNTER, "Passes of the drain loop.", s.drains());
        t.single("peekd_rows_recorded_total", Type.COUNTER, "Rows of closed windows handed to the store and subscribers.", s.rowsRecorded());
        t.single("peekd_rows_ignored_total", Type.COUNTER, "Rows left out by the [log] ignore rules.", s.rowsIgnored());
        WriterStats w = s.writer();
        if (w != null) {
            t.single("peekd_db_batches_written_total", Type.COUNTER, "Batches committed to SQLite.", w.batchesWritten());
            t.single("peekd_db_rows_written_total", Type.COUNTER, "Rows committed to SQLite.", w.rowsWritten());
            t.single("peekd_db_commit_seconds", Type.GAUGE, "Duration of the last SQLite commit.",
                    w.lastCommitLatency() == null ? Double.NaN : w.lastCommitLatency().toNanos() / 1e9);
            t.single("peekd_db_failed_commits_total", Type.COUNTER, "SQLite commits that failed (each retry counts).", w.failedAttempts());
            t.single("peekd_db_failing", Type.GAUGE, "1 while the database writer is failing.", w.failing() ? 1 : 0);
        }
        t.family("peekd_queue_depth", Type.GAUGE, "Items waiting, by queue.");
        t.sample(Map.of("queue", "writer"), w == null ? 0 : w.pendingBatches());
        t.sample(Map.of("queue", "backlog"), s.backlogWindows());
        s.subscribers().forEach((name, v) -> t.sample(Map.of("queue", "subscriber_" + name), v[2]));
        t.family("peekd_subscriber_dropped_total", Type.COUNTER, "Items a subscriber missed because its queue was full.");
        s.subscribers().forEach((name, v) -> t.sample(Map.of("subscriber", name), v[0]));
        t.single("peekd_process_table_entries", Type.GAUGE, "Processes the identity cache holds.", s.processes());
        gauges.forEach((name, g) -> {
            Long v = read(g);
            t.single("peekd_" + name, Type.GAUGE, g.help(), v == null ? Double.NaN : v);
        });
        ProcessUsage u = ProcessUsage.current();
        t.single("process_resident_memory_bytes", Type.GAUGE, "Resident memory size in bytes.", u.rssBytes());
        t.single("process_cpu_seconds_total", Type.COUNTER, "User and system CPU time in seconds.", u.cpuSeconds());
        t.single("process_threads", Type.GAUGE, "Threads of the daemon.", u.threads());
        var counters = exeBytes.snapshot();
        t.family("peekd_bytes_sent_total", Type.COUNTER,
                "Bytes sent, by executable (the first " + EXE_SLOTS + " seen get a series, the rest are exe=\"other\").");
        counters.forEach(x -> t.sample(Map.of("exe", x.exe()), x.sent()));
        t.family("peekd_bytes_received_total", Type.COUNTER, "Bytes received, by executable.");
        counters.forEach(x -> t.sample(Map.of("exe", x.exe()), x.recv()));
        t.family("peekd_connections_total", Type.COUNTER, "Connections opened, by executable.");
        counters.forEach(x -> t.sample(Map.of("exe", x.exe()), x.conns()));
        return t.toString();
    }

    /** Stops writing and serving, and removes metrics.json: a stale file would tell `peekd status` we still run. */
    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        synchronized (this) {
            if (prometheus != null) prometheus.close();
            prometheus = null;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException ignored) {
            // nothing better to do: the next start overwrites it
        }
    }
}

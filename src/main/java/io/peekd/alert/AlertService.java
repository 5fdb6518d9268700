package io.peekd.alert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.peekd.capture.KernelEvent;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Subscriber;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

/**
 * The alert rules of a running daemon: loads alerts.toml, reloads it on SIGHUP, on
 * {@code peekd alerts reload} and when the file changes, and follows stored batches as a
 * {@link Subscriber} on its own thread. A file that does not load is refused with every
 * problem (rule, key, line) in the error log and a notification; the rules before it stay
 * active. The state is published in {@code run_dir/alerts.json} for {@code peekd alerts list}.
 */
public final class AlertService implements Subscriber, AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd.alerts");
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    /** Pairs of the history that on_new_domain takes as known at start. */
    static final int HISTORY_PAIRS = 200_000;

    /**
     * @param file       alerts.toml
     * @param statusFile where the rules and their counters are published (run_dir/alerts.json)
     * @param watch      reload when the file changes
     * @param hangup     reload on SIGHUP
     */
    public record Options(Path file, Path statusFile, AlertEngine.Settings engine, boolean watch, boolean hangup) {
    }

    /** What a reload did. {@code problems} is empty when the file was taken. */
    public record Reload(Instant at, String trigger, boolean ok, int rules, List<String> problems) {
    }

    private final Options options;
    private final AlertEngine engine;
    private final Consumer<String> errors;
    private final AddressInfo geo;
    private final ExecutorService reloads;
    private final Runnable onHangup = () -> requestReload("SIGHUP");
    private final boolean hangupInstalled;
    private Thread watcher;
    private WatchService watchService;
    private volatile Reload lastReload;
    private volatile long generation;
    private byte[] loadedDigest;
    private long lastStatusWrite;
    private volatile boolean closed;

    private AlertService(Options options, AlertEngine engine, Consumer<String> errors, AddressInfo geo) {
        this.options = options;
        this.engine = engine;
        this.errors = errors;
        this.geo = geo;
        this.reloads = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("peekd-alerts-reload").factory());
        this.hangupInstalled = options.hangup() && Hangup.add(onHangup);
    }

    /**
     * Loads the rules and starts following. A broken file at start is reported like a broken
     * reload: the daemon runs, with no rules, until the file is fixed.
     *
     * @param history the (exe, domain) pairs already stored, most recent first; may be null
     */
    public static AlertService start(Options options, AlertEngine.Sink sink, Consumer<String> errors,
                                     Supplier<List<String[]>> history, AddressInfo geo, ToIntFunction<FlowRow> flags) {
        return start(options, sink, errors, history, geo, flags, (u, n, r) -> { });
    }

    static AlertService start(Options options, AlertEngine.Sink sink, Consumer<String> errors,
                              Supplier<List<String[]>> history, AddressInfo geo, ToIntFunction<FlowRow> flags,
                              WebhookSender.Attempts attempts) {
        AlertEngine engine = new AlertEngine(options.engine(), sink, errors, geo, flags, Clock.systemUTC(), attempts);
        AlertService s = new AlertService(options, engine, errors, geo);
        if (history != null) {
            try {
                List<String[]> pairs = history.get();
                // Oldest first, so the most recent stay when the memory bound is reached.
                for (int i = pairs.size() - 1; i >= 0; i--) engine.knowDomain(pairs.get(i)[0], pairs.get(i)[1]);
            } catch (RuntimeException e) {
                errors.accept(AlertEngine.ERROR_PREFIX + "rules: cannot read the known domains from the history (" + e.getMessage()
                        + "); on_new_domain treats every pair as new until it has seen it once");
            }
        }
        s.reload("start");
        if (options.watch()) s.startWatching();
        return s;
    }

    /**
     * Checks an alerts file without a daemon ({@code peekd alerts test}): its rules as they
     * would be loaded, with zero counts.
     *
     * @throws AlertsFileException listing every problem, each with rule, key and line
     * @throws IOException         when the file cannot be read (NoSuchFileException when missing)
     */
    public static List<AlertEngine.RuleStatus> check(Path file) throws AlertsFileException, IOException {
        List<AlertEngine.RuleStatus> out = new ArrayList<>();
        for (Rule r : RulesParser.load(file).rules())
            out.add(new AlertEngine.RuleStatus(r.name(), r.line(), r.enabled(), r.matchSummary(), r.actionKinds(),
                    0, 0, 0, 0, 0, null, null));
        return out;
    }

    /** The settings of {@code [alerts]}, with alerts.json in {@code runDir}. */
    public static Options options(io.peekd.config.Config c) {
        var a = c.alerts();
        return new Options(a.file(), c.paths().runDir().resolve("alerts.json"),
                new AlertEngine.Settings(a.actionThreads(), a.actionQueue(), a.actionQueue(), java.time.Duration.ofSeconds(1)),
                true, true);
    }

    /**
     * Starts the daemon's alert rules on a store: fired alerts go to its alert log, and
     * on_new_domain knows the (exe, domain) pairs of its history. {@code store} may be null
     * (database disabled): alerts still fire, nothing is logged in a table.
     */
    public static AlertService start(Options options, io.peekd.store.Store store, Consumer<String> errors) {
        return start(options, store, errors, AddressInfo.NONE);
    }

    /** As above, with GeoIP for country/asn rules on rows that do not carry them already. */
    public static AlertService start(Options options, io.peekd.store.Store store, Consumer<String> errors, AddressInfo geo) {
        AlertEngine.Sink sink = store == null ? AlertEngine.Sink.NONE : sink(store.writer());
        Supplier<List<String[]>> history = store == null ? null : () -> {
            try (io.peekd.store.Reader r = store.reader()) {
                return r.exeDomains(HISTORY_PAIRS);
            }
        };
        return start(options, sink, errors, history, geo, io.peekd.flow.FlowRow::flags);
    }

    /** Fired alerts and their results through the store's single writer; never blocks. */
    public static AlertEngine.Sink sink(io.peekd.store.Writer w) {
        return new AlertEngine.Sink() {
            @Override
            public boolean fired(io.peekd.store.AlertRecord r) {
                return w.submitAlert(r);
            }

            @Override
            public boolean finished(io.peekd.store.AlertRecord r) {
                return w.submitAlertResult(r);
            }
        };
    }

    public AlertEngine engine() {
        return engine;
    }

    /** Hands desktop notifications (notify actions, broken alert files) to {@code n}. */
    public void useNotifier(Notifier n) {
        engine.useNotifier(n);
    }

    public Reload lastReload() {
        return lastReload;
    }

    /** Reloads in the background (signal handler, file watcher). */
    public void requestReload(String trigger) {
        if (closed) return;
        try {
            reloads.execute(() -> reload(trigger));
        } catch (java.util.concurrent.RejectedExecutionException ignored) {
            // stopping
        }
    }

    /** Reads the file again; on any problem the active rules stay as they were. */
    public synchronized Reload reload(String trigger) {
        Path file = options.file();
        Reload r;
        try {
            byte[] bytes;
            RuleSet set;
            try {
                bytes = Files.readAllBytes(file);
                set = RulesParser.load(file);
            } catch (NoSuchFileException e) {
                bytes = new byte[0];
                set = RuleSet.EMPTY;
                if (generation == 0) LOG.log(System.Logger.Level.INFO, "no alert rules: " + file + " does not exist");
            }
            engine.setRules(set);
            loadedDigest = digest(bytes);
            r = new Reload(Instant.now(), trigger, true, set.rules().size(), List.of());
            LOG.log(System.Logger.Level.INFO, "alert rules loaded from " + file + " (" + trigger + "): "
                    + set.rules().size() + " rules");
            warnUnusable(set);
        } catch (AlertsFileException e) {
            List<String> problems = e.problems().stream().map(AlertsFileException.Problem::toString).toList();
            r = refused(trigger, problems);
        } catch (IOException | RuntimeException e) {
            r = refused(trigger, List.of(file + ": cannot read: " + e.getMessage()));
        }
        lastReload = r;
        generation++;
        writeStatus(true);
        return r;
    }

    private Reload refused(String trigger, List<String> problems) {
        int active = engine.rules().rules().size();
        String msg = AlertEngine.ERROR_PREFIX + "rules: " + options.file() + " was not loaded (" + trigger + "); the "
                + active + " rules loaded before stay active. " + String.join(" | ", problems);
        errors.accept(msg);
        engine.notifyAsync("peekd: alert rules not loaded", problems.getFirst()
                + (problems.size() > 1 ? " (and " + (problems.size() - 1) + " more)" : ""));
        return new Reload(Instant.now(), trigger, false, active, problems);
    }

    private void warnUnusable(RuleSet set) {
        if (geo != AddressInfo.NONE) return;
        for (Rule r : set.rules()) {
            if (r.criteria().needsAddressInfo())
                LOG.log(System.Logger.Level.WARNING, "alert rule \"" + r.name() + "\" matches on country or asn, but this"
                        + " peekd has no address database: it cannot fire");
        }
    }

    private static byte[] digest(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private void startWatching() {
        Path dir = options.file().toAbsolutePath().getParent();
        if (dir == null || !Files.isDirectory(dir)) {
            LOG.log(System.Logger.Level.INFO, "not watching " + options.file() + ": its directory does not exist; use SIGHUP");
            return;
        }
        try {
            watchService = dir.getFileSystem().newWatchService();
            dir.register(watchService, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot watch " + dir + " for changes of the alert rules: " + e.getMessage());
            return;
        }
        watcher = Thread.ofPlatform().daemon().name("peekd-alerts-watch").start(this::watchLoop);
    }

    /**
     * Editors save in several steps (truncate and write, or write a copy and rename), so a
     * reload waits until the directory has been quiet for a moment, and skips it when the
     * bytes are the ones already loaded.
     */
    private void watchLoop() {
        Path name = options.file().getFileName();
        boolean dirty = false;
        while (!closed) {
            WatchKey key;
            try {
                key = watchService.poll(dirty ? 300 : 1_000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException | ClosedWatchServiceException e) {
                return;
            }
            if (key == null) {
                if (dirty) {
                    dirty = false;
                    if (changed()) requestReload("file change");
                }
                continue;
            }
            for (WatchEvent<?> ev : key.pollEvents()) {
                if (ev.kind() == StandardWatchEventKinds.OVERFLOW || name.equals(ev.context())) dirty = true;
            }
            if (!key.reset()) {
                LOG.log(System.Logger.Level.WARNING, "stopped watching the alert rules: the directory of " + options.file() + " is gone");
                return;
            }
        }
    }

    private synchronized boolean changed() {
        byte[] now;
        try {
            now = Files.readAllBytes(options.file());
        } catch (NoSuchFileException e) {
            now = new byte[0];
        } catch (IOException e) {
            return true;
        }
        return !Arrays.equals(digest(now), loadedDigest);
    }

    @Override
    public String name() {
        return "alerts";
    }

    @Override
    public void onEvent(KernelEvent event) {
        // Rules match stored rows, which carry the identity; raw events are not needed.
    }

    @Override
    public void onBatch(Instant window, List<FlowRow> rows) {
        engine.onBatch(window, rows);
        writeStatus(false);
    }

    /** A line of the daemon's error log (for on_error rules). */
    public void onError(String message) {
        engine.onError(message);
    }

    /** Writes alerts.json now, whatever the once-a-second limit says (tests, `peekd alerts list` right after a batch). */
    public void writeStatusForTest() {
        writeStatus(true);
    }

    /** Publishes rules and counters; after batches at most once a second. */
    synchronized void writeStatus(boolean now) {
        long t = System.nanoTime();
        if (!now && t - lastStatusWrite < 1_000_000_000L) return;
        lastStatusWrite = t;
        Path out = options.statusFile();
        if (out == null) return;
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pid", ProcessHandle.current().pid());
        // With the pid, tells a live daemon from an unrelated process that got its pid after a crash.
        m.put("process_start", ProcessHandle.current().info().startInstant().map(Instant::toString).orElse(null));
        m.put("sighup", hangupInstalled);
        m.put("file", options.file().toString());
        m.put("generation", generation);
        Reload r = lastReload;
        if (r != null) {
            Map<String, Object> lr = new LinkedHashMap<>();
            lr.put("at", r.at().toString());
            lr.put("trigger", r.trigger());
            lr.put("ok", r.ok());
            lr.put("rules", r.rules());
            lr.put("problems", r.problems());
            m.put("last_reload", lr);
        }
        List<Map<String, Object>> rules = new ArrayList<>();
        for (AlertEngine.RuleStatus s : engine.status()) {
            Map<String, Object> x = new LinkedHashMap<>();
            x.put("name", s.name());
            x.put("line", s.line());
            x.put("enabled", s.enabled());
            x.put("match", s.match());
            x.put("actions", s.actions());
            x.put("fired", s.fired());
            x.put("suppressed_dedup", s.suppressedDedup());
            x.put("suppressed_rate", s.suppressedRate());
            x.put("failed", s.failed());
            x.put("dropped", s.dropped());
            x.put("last_fired", s.lastFired() == null ? null : s.lastFired().toString());
            x.put("last_result", s.lastResult());
            rules.add(x);
        }
        m.put("rules", rules);
        m.put("log_entries_lost", engine.lostRecords());
        try {
            Files.createDirectories(out.getParent());
            Path tmp = out.resolveSibling(out.getFileName() + ".tmp");
            JSON.writeValue(tmp.toFile(), m);
            Files.move(tmp, out, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot write " + out + ": " + e.getMessage());
        }
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        Hangup.remove(onHangup);
        reloads.shutdownNow();
        if (watchService != null) {
            try {
                watchService.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
        if (watcher != null) {
            try {
                watcher.join(2_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        engine.close();
        writeStatus(true);
        try {
            // A stale file would show a stopped daemon's rules as active.
            if (options.statusFile() != null) Files.deleteIfExists(options.statusFile());
        } catch (IOException ignored) {
            // `peekd alerts list` also checks that the pid lives
        }
    }
}

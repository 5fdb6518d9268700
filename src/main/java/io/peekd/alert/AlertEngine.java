package io.peekd.alert;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.AlertRecord;
import io.peekd.store.RowJson;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.ToIntFunction;

/**
 * Matches rows and daemon errors against the rules, applies dedup and rate limits, and
 * starts the actions. Matching runs on the caller's thread (the alert subscriber's own);
 * actions run on a bounded pool and the webhook sender, so a slow or hanging action never
 * holds up matching, and matching never holds up capture.
 */
public final class AlertEngine implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd.alerts");
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Every line this engine sends to the error log starts so; on_error rules ignore them, or a failing action would loop. */
    public static final String ERROR_PREFIX = "alert ";
    /** Rows carry no executable flags yet: the flags arrive with the exe-identity work. */
    public static final ToIntFunction<FlowRow> NO_FLAGS = r -> 0;

    /**
     * @param actionThreads  exec and notify actions running at once
     * @param actionQueue    actions that may wait for a thread; more are dropped (and logged)
     * @param webhooks       webhook deliveries under way at once (including retries)
     * @param webhookBackoff pause before the first retry; doubled on each further one
     */
    public record Settings(int actionThreads, int actionQueue, int webhooks, Duration webhookBackoff) {
        public static Settings defaults() {
            return new Settings(4, 1_000, 1_000, Duration.ofSeconds(1));
        }
    }

    /** Where fired alerts and their results go: the store's writer in the daemon. */
    public interface Sink {
        /** Must not block. False when the record could not be taken. */
        boolean fired(AlertRecord r);

        boolean finished(AlertRecord r);

        Sink NONE = new Sink() {
            public boolean fired(AlertRecord r) {
                return true;
            }

            public boolean finished(AlertRecord r) {
                return true;
            }
        };
    }

    /** One rule's counters, for {@code peekd alerts list} and alerts.json. */
    public record RuleStatus(String name, int line, boolean enabled, String match, String actions, long fired,
                             long suppressedDedup, long suppressedRate, long failed, long dropped, Instant lastFired,
                             String lastResult) {
    }

    private final Sink sink;
    private final Consumer<String> errors;
    private final AddressInfo geo;
    private final ToIntFunction<FlowRow> flags;
    private final Clock clock;
    private final ThreadPoolExecutor pool;
    private final ThreadPoolExecutor errorLane;
    private final WebhookSender webhooks;
    private final SeenPairs seen = new SeenPairs(1_000_000);
    private final Map<String, RuleState> states = new HashMap<>();
    private final AtomicLong lostRecords = new AtomicLong();
    private volatile Notifier notifier = Notifier.LOG;
    private RuleSet rules = RuleSet.EMPTY;

    public AlertEngine(Settings s, Sink sink, Consumer<String> errors, AddressInfo geo, ToIntFunction<FlowRow> flags,
                       Clock clock, WebhookSender.Attempts attempts) {
        this.sink = sink;
        this.errors = errors;
        this.geo = geo;
        this.flags = flags;
        this.clock = clock;
        this.pool = new ThreadPoolExecutor(s.actionThreads(), s.actionThreads(), 30, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(s.actionQueue()), Thread.ofPlatform().daemon().name("peekd-alert-action-", 0).factory(),
                new ThreadPoolExecutor.AbortPolicy());
        this.pool.allowCoreThreadTimeOut(true);
        this.errorLane = new ThreadPoolExecutor(1, 1, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(100),
                Thread.ofPlatform().daemon().name("peekd-alert-errors").factory(), new ThreadPoolExecutor.AbortPolicy());
        this.errorLane.allowCoreThreadTimeOut(true);
        this.webhooks = new WebhookSender(s.webhooks(), s.webhookBackoff(), attempts);
    }

    public void useNotifier(Notifier n) {
        this.notifier = n == null ? Notifier.LOG : n;
    }

    synchronized void setRules(RuleSet r) {
        this.rules = r;
        for (Rule rule : r.rules()) states.computeIfAbsent(rule.name(), k -> new RuleState());
        states.keySet().retainAll(r.rules().stream().map(Rule::name).toList());
    }

    synchronized RuleSet rules() {
        return rules;
    }

    /** Remembers pairs of the stored history as known, so that on_new_domain means new since ever. */
    void knowDomain(String exe, String domain) {
        seen.add(exe, domain);
    }

    /** Matches one closed window's rows: one pass over the rows, each against its candidate rules only. */
    public synchronized void onBatch(Instant window, List<FlowRow> rows) {
        long now = clock.millis();
        for (FlowRow row : rows) {
            int f = flags.applyAsInt(row);
            Identity id = row.id();
            String exe = id == null ? null : id.exe();
            // Every pair is recorded, used by a rule or not, so a rule added later knows the past.
            boolean newDomain = exe != null && row.domain() != null && !row.domain().isEmpty() && seen.add(exe, row.domain());
            rules.candidates(row, rule -> consider(rule, row, window, f, newDomain, now));
        }
    }

    private void consider(Rule rule, FlowRow row, Instant window, int f, boolean newDomain, long now) {
        Rule.Events ev = rule.events();
        if (ev.newExe() && (f & ExeFlags.NEW_EXE) == 0) return;
        if (ev.newHash() && (f & ExeFlags.NEW_HASH) == 0) return;
        if (ev.newDomain() && !newDomain) return;
        if (!rule.criteria().matches(row, geo)) return;
        Identity id = row.id();
        String exe = id == null ? null : id.exe();
        if (rule.threshold().isSet()) {
            Rule.Threshold t = rule.threshold();
            long bucket = t.window() == null ? window.getEpochSecond() : Math.floorDiv(row.time().getEpochSecond(), t.window().toSeconds());
            String who = exe != null ? exe : id != null && id.name() != null ? id.name() : "?";
            long[] sums = states.get(rule.name()).addBytes(t, who, bucket, row.sent(), row.recv());
            if (sums != null) fire(rule, "threshold", row, f, null, Arrays.asList("threshold", who, bucket), now, sums);
            return;
        }
        String event = ev.newHash() ? "new_hash" : ev.newExe() ? "new_exe" : ev.newDomain() ? "new_domain" : "flow";
        List<Object> key = Arrays.asList(event, exe, id == null ? null : id.sha256(), row.raddr(), row.rport(),
                row.domain(), row.proto());
        fire(rule, event, row, f, null, key, now, null);
    }

    /** A line of the error log. Handed to a lane of its own: the caller may hold the error log's lock. */
    public void onError(String message) {
        if (message == null || message.startsWith(ERROR_PREFIX)) return;
        try {
            errorLane.execute(() -> matchError(message));
        } catch (RejectedExecutionException e) {
            LOG.log(System.Logger.Level.WARNING, "alert engine is behind on daemon errors; one was not matched");
        }
    }

    private synchronized void matchError(String message) {
        long now = clock.millis();
        for (Rule rule : rules.errorRules()) fire(rule, "error", null, 0, message, List.of("error", message), now, null);
    }

    private void fire(Rule rule, String event, FlowRow row, int f, String error, Object key, long now, long[] sums) {
        RuleState st = states.get(rule.name());
        RuleState.Verdict v = st.admit(rule, key, now);
        if (v == RuleState.Verdict.RATE && st.firstRateWarning()) {
            LOG.log(System.Logger.Level.WARNING, "alert rule \"" + rule.name() + "\" reached max_per_hour = "
                    + rule.maxPerHour() + "; further alerts are counted but suppressed");
        }
        if (v != RuleState.Verdict.FIRE) return;
        Instant time = Instant.ofEpochMilli(now);
        long suppressed = st.suppressedSinceLast;
        st.suppressedSinceLast = 0;
        st.lastFired = time;
        st.lastResult = "pending";
        AlertValues values = AlertValues.of(rule.name(), event, time, row, f, error, suppressed);
        if (sums != null) values = values.with("sent", Long.toString(sums[0])).with("recv", Long.toString(sums[1]));
        String flowJson = row == null ? null : RowJson.toJson(row);
        Identity id = row == null ? null : row.id();
        AlertRecord rec = new AlertRecord(UUID.randomUUID().toString(), time, rule.name(), event, rule.actionKinds(),
                "pending", null, suppressed, id == null ? null : id.exe(), row == null ? null : row.domain(),
                row == null ? null : row.raddr(), row == null || row.rport() < 0 ? null : row.rport(), flowJson, error, null);
        record(() -> sink.fired(rec));
        List<CompletableFuture<Outcome>> running = new ArrayList<>();
        for (Rule.Action a : rule.actions()) running.add(start(rule, a, values, flowJson));
        AlertValues vals = values;
        CompletableFuture.allOf(running.toArray(CompletableFuture[]::new)).whenComplete((x, e) -> {
            List<Outcome> outcomes = running.stream().map(c -> c.getNow(
                    new Outcome("?", Outcome.Status.FAILED, "no outcome"))).toList();
            finished(rule, rec, vals, outcomes);
        });
    }

    private CompletableFuture<Outcome> start(Rule rule, Rule.Action a, AlertValues values, String flowJson) {
        try {
            return switch (a) {
                case Rule.Action.Exec x -> {
                    List<String> argv = x.command().render(values);
                    Map<String, String> env = values.environment();
                    yield CompletableFuture.supplyAsync(() -> ExecRunner.run(argv, env, rule.timeout()), pool);
                }
                case Rule.Action.Webhook w -> webhooks.send(w.url(), w.headers(), payload(values, flowJson),
                        rule.timeout(), rule.retries());
                case Rule.Action.Log l -> {
                    LOG.log(System.Logger.Level.WARNING, "alert " + values.summary());
                    yield CompletableFuture.completedFuture(Outcome.ok("log", null));
                }
                case Rule.Action.Notify n -> {
                    Notifier target = notifier;
                    String title = "peekd alert: " + AlertValues.printable(rule.name());
                    String body = values.summary();
                    yield CompletableFuture.supplyAsync(() -> {
                        try {
                            target.notify(title, body);
                            return Outcome.ok("notify", null);
                        } catch (Exception e) {
                            return new Outcome("notify", Outcome.Status.FAILED, String.valueOf(e.getMessage()));
                        }
                    }, pool).completeOnTimeout(new Outcome("notify", Outcome.Status.TIMEOUT, "the notifier did not return within "
                            + rule.timeout().toSeconds() + " s"), rule.timeout().toMillis(), TimeUnit.MILLISECONDS);
                }
            };
        } catch (RejectedExecutionException e) {
            return CompletableFuture.completedFuture(new Outcome(a.kind(), Outcome.Status.DROPPED,
                    "too many actions waiting (" + pool.getQueue().size() + "); raise [alerts] action_queue or action_threads"));
        } catch (RuntimeException e) {
            return CompletableFuture.completedFuture(new Outcome(a.kind(), Outcome.Status.FAILED, e.toString()));
        }
    }

    private void finished(Rule rule, AlertRecord rec, AlertValues values, List<Outcome> outcomes) {
        Outcome bad = outcomes.stream().filter(o -> !o.ok()).findFirst().orElse(null);
        String result = bad == null ? "ok" : bad.status().word();
        String detail = String.join("; ", outcomes.stream().map(Outcome::toString).toList());
        synchronized (this) {
            RuleState st = states.get(rule.name());
            if (st != null) {
                st.lastResult = result;
                if (bad != null && bad.status() == Outcome.Status.DROPPED) st.dropped++;
                else if (bad != null) st.failed++;
            }
        }
        if (bad != null) {
            errors.accept(ERROR_PREFIX + "\"" + AlertValues.printable(rule.name()) + "\" (" + values.summary() + "): " + detail);
        }
        AlertRecord done = new AlertRecord(rec.ref(), rec.time(), rec.rule(), rec.event(), rec.actions(), result, detail,
                rec.suppressed(), rec.exe(), rec.domain(), rec.raddr(), rec.rport(), rec.flowJson(), rec.message(),
                clock.instant());
        record(() -> sink.finished(done));
    }

    private void record(java.util.function.BooleanSupplier write) {
        boolean ok;
        try {
            ok = write.getAsBoolean();
        } catch (RuntimeException e) {
            ok = false;
        }
        if (!ok && lostRecords.getAndIncrement() % 100 == 0) {
            LOG.log(System.Logger.Level.WARNING, "the alert log could not take an entry (database writer busy or closed); "
                    + lostRecords.get() + " lost so far");
        }
    }

    static byte[] payload(AlertValues values, String flowJson) {
        ObjectNode o = JSON.createObjectNode();
        o.put("rule", values.get("rule"));
        o.put("event", values.get("event"));
        o.put("time", values.get("time"));
        o.put("summary", values.summary());
        o.put("suppressed", Long.parseLong(values.get("suppressed")));
        o.put("error", values.map().get("error"));
        try {
            o.set("flow", flowJson == null ? null : JSON.readTree(flowJson));
        } catch (IOException e) {
            o.putNull("flow");
        }
        ObjectNode vals = o.putObject("values");
        values.map().forEach(vals::put);
        try {
            return JSON.writeValueAsBytes(o);
        } catch (IOException e) {
            throw new IllegalStateException("cannot write alert JSON", e);
        }
    }

    /** A notification that is not an alert (a refused rules file); never blocks the caller. */
    void notifyAsync(String title, String body) {
        Notifier target = notifier;
        try {
            pool.execute(() -> {
                try {
                    target.notify(AlertValues.printable(title), AlertValues.printable(body));
                } catch (Exception e) {
                    LOG.log(System.Logger.Level.WARNING, "notification failed: " + e);
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.log(System.Logger.Level.WARNING, "notification not shown (actions queue full): " + title);
        }
    }

    public synchronized List<RuleStatus> status() {
        List<RuleStatus> out = new ArrayList<>();
        for (Rule r : rules.rules()) {
            RuleState s = states.getOrDefault(r.name(), new RuleState());
            out.add(new RuleStatus(r.name(), r.line(), r.enabled(), r.matchSummary(), r.actionKinds(), s.fired,
                    s.suppressedDedup, s.suppressedRate, s.failed, s.dropped, s.lastFired, s.lastResult));
        }
        return out;
    }

    /** Alert-log entries the writer could not take. */
    public long lostRecords() {
        return lostRecords.get();
    }

    /** Waits (bounded) for running actions, then stops; webhooks still retrying are reported as dropped. */
    @Override
    public void close() {
        errorLane.shutdown();
        pool.shutdown();
        try {
            if (!pool.awaitTermination(5, TimeUnit.SECONDS)) pool.shutdownNow();
            errorLane.awaitTermination(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
        webhooks.close();
    }
}

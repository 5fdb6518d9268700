package io.peekd.notify;

import io.peekd.flow.Flag;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.flow.Notice;
import io.peekd.flow.Subscriber;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;

/**
 * Desktop notifications through {@code org.freedesktop.Notifications} on the
 * session bus of {@code [desktop] user}: new executables, changed hashes,
 * and every line of the error log (losses, hash failures, VirusTotal
 * warnings).
 *
 * <p>A chatty source cannot flood the desktop: a message equal to the one
 * shown last updates that notification in place with a count, and at most
 * {@link Settings#burst()} notifications are shown per {@link Settings#per()};
 * what is held back is summed up in one "N more" notification.
 *
 * <p>All D-Bus work happens on one platform thread of this class. Without a
 * reachable bus (nobody logged in, no notification daemon) this is logged
 * once and retried every minute; the daemon never waits for it.
 */
public final class DesktopNotifier implements Subscriber {
    private static final System.Logger LOG = System.getLogger("peekd.notify");
    /** dbus-java tells every connect at INFO; peekd's log needs only its warnings. Held so the level sticks. */
    private static final java.util.logging.Logger DBUS_JAVA = java.util.logging.Logger.getLogger("org.freedesktop.dbus");

    static {
        DBUS_JAVA.setLevel(java.util.logging.Level.WARNING);
    }
    static final Duration MERGE_WINDOW = Duration.ofMinutes(2);
    static final Duration RETRY = Duration.ofMinutes(1);

    /** Urgency levels of the notification spec. */
    enum Urgency {
        LOW, NORMAL, CRITICAL;

        byte value() {
            return (byte) ordinal();
        }
    }

    /** One notification to show; {@code key} decides what counts as a duplicate. */
    record Message(Urgency urgency, String summary, String body) {
        String key() {
            return summary + "\n" + body;
        }
    }

    /**
     * @param busAddress {@code desktop.bus_address} (empty: /run/user/UID/bus)
     * @param burst      notifications shown at most per {@code per}
     */
    public record Settings(String user, String busAddress, Path passwd, int burst, Duration per) {
        public static Settings of(String user, String busAddress) {
            return new Settings(user, busAddress, Path.of("/etc/passwd"), 5, Duration.ofMinutes(1));
        }
    }

    private final Settings settings;
    private final InstantSource clock;
    private final ScheduledExecutorService thread;
    // Touched only on the notifier thread:
    private DBusConnection bus;
    private Notifications remote;
    private Instant lastAttempt;
    private String lastFailure;
    private String lastKey;
    private long lastId;
    private int lastCount;
    private Instant lastShown;
    private double tokens;
    private Instant tokensAt;
    private int heldBack;
    private final Set<String> seenHashErrors = new HashSet<>();
    private final AtomicLong shown = new AtomicLong(), dropped = new AtomicLong();

    public DesktopNotifier(Settings settings) {
        this(settings, InstantSource.system());
    }

    DesktopNotifier(Settings settings, InstantSource clock) {
        this.settings = settings;
        this.clock = clock;
        this.tokens = settings.burst();
        this.tokensAt = clock.instant();
        ScheduledThreadPoolExecutor ex = new ScheduledThreadPoolExecutor(1,
                r -> Thread.ofPlatform().daemon().name("peekd-notify").unstarted(r));
        ex.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.thread = ex;
        thread.scheduleWithFixedDelay(this::tick, 5, 5, TimeUnit.SECONDS);
    }

    @Override
    public String name() {
        return "desktop";
    }

    @Override
    public void onBatch(Instant window, List<FlowRow> rows) {
        // One notification per executable (and script) and judgement, however many flows it had.
        Map<String, Message> out = new LinkedHashMap<>();
        for (FlowRow r : rows) {
            Identity id = r.id();
            if (id == null || r.flags() == 0) continue;
            String who = id.exe() + "\0" + id.sha256() + "\0" + id.script() + "\0" + id.scriptSha256() + "\0" + r.flags();
            if (out.containsKey(who)) continue;
            Message m = describe(r);
            if (m != null) out.put(who, m);
        }
        out.values().forEach(this::submit);
    }

    @Override
    public void onNotice(Notice n) {
        Urgency u = switch (n.severity()) {
            case INFO -> Urgency.LOW;
            case WARNING -> Urgency.NORMAL;
            case ERROR, CRITICAL -> Urgency.CRITICAL;
        };
        String summary = "peekd problem";
        if (n.source().equals("virustotal")) {
            summary = "VirusTotal warning";
        } else if (n.text().startsWith("capture loss:")) {
            summary = "peekd lost data"; // counts are now too low: the operator must know
        } else if (n.text().startsWith("cannot hash ")) {
            // Usually a program that deleted itself or a FUSE mount: worth knowing, not alarming.
            summary = "Cannot verify an executable";
            u = Urgency.NORMAL;
        }
        submit(new Message(u, summary, n.text()));
    }

    /** The notification a flagged row deserves; quiet when the package manager vouches for the content. */
    static Message describe(FlowRow r) {
        Identity id = r.id();
        String name = id.name() != null ? id.name() : id.exe();
        boolean script = id.script() != null;
        String what = script ? id.script() + " (run by " + id.exe() + ")" : id.exe();
        String sha = script ? id.scriptSha256() : id.sha256();
        String shaLine = sha == null ? "" : "\nsha256 " + sha;
        String parent = id.pexe() == null ? "" : "\nstarted by " + id.pexe();
        if (r.has(Flag.NEW_HASH)) {
            if (r.has(Flag.PACKAGE_MISMATCH))
                return new Message(Urgency.CRITICAL, "Executable changed outside its package: " + name,
                        what + " differs from what its package installed." + shaLine + parent);
            if (r.has(Flag.PACKAGED))
                return new Message(Urgency.LOW, "Executable updated: " + name,
                        what + " has new content that matches its package." + shaLine);
            return new Message(Urgency.CRITICAL, "Executable changed: " + name,
                    what + " has new content (not from a package)." + shaLine + parent);
        }
        if (r.has(Flag.NEW_EXE)) {
            if (r.has(Flag.PACKAGE_MISMATCH))
                return new Message(Urgency.CRITICAL, "New executable differs from its package: " + name,
                        what + shaLine + parent);
            Urgency u = r.has(Flag.PACKAGED) ? Urgency.LOW : Urgency.NORMAL;
            String dest = r.raddr() == null || r.raddr().isEmpty() ? ""
                    : "\ntalked to " + (r.domain() != null ? r.domain() + " (" + r.raddr() + ")" : r.raddr())
                    + (r.rport() > 0 ? ":" + r.rport() : "");
            return new Message(u, "New executable: " + name,
                    what + (r.has(Flag.PACKAGED) ? " (from its package)" : "") + shaLine + parent + dest);
        }
        return null;
    }

    private void submit(Message m) {
        try {
            thread.execute(() -> show(m));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            dropped.incrementAndGet(); // closing
        }
    }

    // ---- notifier thread ----

    private void refill(Instant now) {
        double perToken = settings.per().toMillis() / (double) settings.burst();
        double add = Duration.between(tokensAt, now).toMillis() / perToken;
        if (add > 0) {
            tokens = Math.min(settings.burst(), tokens + add);
            tokensAt = now;
        }
    }

    private void show(Message m) {
        Instant now = clock.instant();
        refill(now);
        boolean repeat = m.key().equals(lastKey) && lastShown != null
                && Duration.between(lastShown, now).compareTo(MERGE_WINDOW) < 0;
        if (repeat) {
            // The same thing again: update the one on screen rather than stack another.
            lastCount++;
            lastShown = now;
            if (tokens < 1) return; // the count is carried into the next update
            tokens -= 1;
            long id = send(m.urgency(), m.summary(), m.body() + "\n(" + lastCount + " times)", lastId);
            if (id > 0) lastId = id;
            return;
        }
        if (tokens < 1) {
            heldBack++;
            dropped.incrementAndGet();
            return;
        }
        tokens -= 1;
        long id = send(m.urgency(), m.summary(), m.body(), 0);
        lastKey = m.key();
        lastCount = 1;
        lastShown = now;
        lastId = id;
    }

    /** Every few seconds: tell how much was held back once there is room again. */
    private void tick() {
        try {
            Instant now = clock.instant();
            refill(now);
            if (heldBack > 0 && tokens >= 1) {
                tokens -= 1;
                int n = heldBack;
                heldBack = 0;
                send(Urgency.NORMAL, "peekd: " + n + " more event" + (n == 1 ? "" : "s"),
                        "Not shown to keep the desktop quiet; see error.log and peekd query.", 0);
                lastKey = null;
            }
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "notification tick failed: " + e);
        }
    }

    /** Returns the notification id, or 0 when it could not be shown. */
    private long send(Urgency u, String summary, String body, long replaces) {
        if (!connected()) {
            dropped.incrementAndGet();
            return 0;
        }
        try {
            Map<String, Variant<?>> hints = new LinkedHashMap<>();
            hints.put("urgency", new Variant<>(u.value()));
            hints.put("category", new Variant<>("x-peekd"));
            UInt32 id = remote.Notify("peekd", new UInt32(replaces), u == Urgency.CRITICAL ? "dialog-warning" : "dialog-information",
                    summary, body, List.of(), hints, -1);
            shown.incrementAndGet();
            return id.longValue();
        } catch (RuntimeException e) {
            // The bus or the notification daemon went away: reconnect on a later message.
            failed("cannot show a notification: " + e.getMessage());
            disconnect();
            dropped.incrementAndGet();
            return 0;
        }
    }

    private boolean connected() {
        if (remote != null && bus != null && bus.isConnected()) return true;
        disconnect();
        Instant now = clock.instant();
        if (lastAttempt != null && Duration.between(lastAttempt, now).compareTo(RETRY) < 0) return false;
        lastAttempt = now;
        UserBus.Target t = null;
        try {
            t = UserBus.resolve(settings.user(), settings.busAddress(), settings.passwd());
            bus = UserBus.connect(t);
            remote = bus.getRemoteObject(Notifications.BUS_NAME, Notifications.OBJECT_PATH, Notifications.class);
            if (lastFailure != null) LOG.log(System.Logger.Level.INFO, "desktop notifications work again");
            lastFailure = null;
            return true;
        } catch (Exception e) {
            disconnect();
            failed("no session bus for desktop user " + settings.user()
                    + (t == null ? "" : " at " + t.socket()) + " (" + e.getMessage()
                    + "); notifications are skipped, retrying every minute");
            return false;
        }
    }

    /** Logs a failure once, not on every retry. */
    private void failed(String what) {
        String kind = what.replaceAll("\\d+", "#");
        if (!kind.equals(lastFailure)) LOG.log(System.Logger.Level.WARNING, what);
        lastFailure = kind;
    }

    private void disconnect() {
        remote = null;
        if (bus != null) {
            try {
                bus.close();
            } catch (Exception e) {
                // already broken
            }
            bus = null;
        }
    }

    /** Notifications shown and messages not shown (no bus, or held back). */
    public Map<String, Long> counters() {
        return Map.of("shown", shown.get(), "not_shown", dropped.get());
    }

    /** Waits until everything submitted so far was handled (tests, shutdown). */
    void awaitIdle() throws Exception {
        thread.submit(() -> { }).get(30, TimeUnit.SECONDS);
    }

    /** Runs the periodic summary now (tests drive the clock). */
    void tickNow() throws Exception {
        thread.submit(this::tick).get(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        try {
            thread.submit(this::disconnect).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            // best effort
        }
        thread.shutdownNow();
    }
}

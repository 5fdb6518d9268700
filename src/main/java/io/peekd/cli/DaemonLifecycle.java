package io.peekd.cli;

import io.peekd.config.Config;
import io.peekd.config.ConfigException;
import io.peekd.config.ConfigLoader;
import io.peekd.daemon.Daemon;
import io.peekd.daemon.DaemonStats;
import io.peekd.daemon.ErrorLog;
import io.peekd.logging.Logs;
import io.peekd.systemd.SdNotify;
import io.peekd.systemd.Signals;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * What happens around a running daemon: systemd readiness and watchdog,
 * SIGHUP reload, SIGTERM/SIGINT shutdown that ends within {@link #STOP_LIMIT}.
 */
final class DaemonLifecycle {
    private static final System.Logger LOG = System.getLogger("peekd");
    /** SIGTERM must end the process within 5 s; this leaves the JVM time to exit. */
    static final Duration STOP_LIMIT = Duration.ofMillis(4500);
    /** How much longer a slow stop may take to write the last window (on a very loaded machine). */
    static final Duration GRACE = Duration.ofSeconds(20);

    private final Daemon daemon;
    private final Path configFile;
    private final Config.Log.Level levelOverride;
    private final ErrorLog errors;
    private final SdNotify notify = SdNotify.fromEnvironment();
    private final CountDownLatch stop = new CountDownLatch(1);

    DaemonLifecycle(Daemon daemon, Path configFile, Config.Log.Level levelOverride, Path errorLog) {
        this.daemon = daemon;
        this.configFile = configFile;
        this.levelOverride = levelOverride;
        this.errors = new ErrorLog(errorLog);
    }

    /** Blocks until SIGTERM/SIGINT, then flushes and closes the daemon. */
    int run() throws InterruptedException {
        daemon.onReload(c -> Logs.setLevel(levelOverride != null ? levelOverride : c.log().level()));
        Signals.on("TERM", stop::countDown);
        Signals.on("INT", stop::countDown);
        Signals.on("HUP", () -> Thread.ofPlatform().name("peekd-reload").start(this::reload));
        String hooks = daemon.stats().hookSet();
        notify.ready("capturing with hook set " + hooks);
        Thread watchdog = notify.watchdogTimeout().map(this::startWatchdog).orElse(null);
        stop.await();
        LOG.log(System.Logger.Level.INFO, "stopping: writing the last window");
        notify.stopping();
        if (watchdog != null) watchdog.interrupt();
        Thread closer = Thread.ofPlatform().name("peekd-close").start(daemon::close);
        closer.join(STOP_LIMIT.toMillis());
        if (closer.isAlive()) {
            // Accounted bytes come first: keep waiting for the last window rather than drop it,
            // and say so; only a stop that hangs for good gives up.
            errors.error("shutdown is taking longer than " + STOP_LIMIT.toMillis() + " ms; still writing the last window");
            notify.extendTimeout(GRACE);
            closer.join(GRACE.toMillis());
            if (closer.isAlive()) {
                errors.error("shutdown did not finish within " + (STOP_LIMIT.plus(GRACE)).toMillis() + " ms; exiting");
                notify.close();
                return 1;
            }
        }
        notify.close();
        LOG.log(System.Logger.Level.INFO, "stopped");
        return 0;
    }

    /** SIGHUP: a config with mistakes is reported and the running settings stay. */
    private synchronized void reload() {
        notify.reloading();
        try {
            Config c = ConfigLoader.load(configFile);
            List<String> notes = daemon.reload(c);
            for (String n : notes) LOG.log(System.Logger.Level.WARNING, "reload: " + n);
            notify.ready("reloaded " + configFile);
        } catch (ConfigException e) {
            errors.error("reload refused, keeping the running configuration: " + e.getMessage());
            notify.ready("reload refused: config has mistakes");
        } catch (RuntimeException e) {
            errors.error("reload failed, keeping the running configuration: " + e);
            notify.ready("reload failed");
        }
    }

    /**
     * Pings systemd at half its timeout, but only while the drain loop makes
     * progress: a stuck daemon stops pinging and systemd restarts it.
     */
    private Thread startWatchdog(Duration timeout) {
        Duration every = timeout.dividedBy(2);
        return Thread.ofPlatform().daemon().name("peekd-watchdog").start(() -> {
            while (true) {
                DaemonStats s = daemon.stats();
                Instant last = s.lastDrain() == null ? s.started() : s.lastDrain();
                if (Duration.between(last, Instant.now()).compareTo(timeout) < 0) notify.watchdog();
                else LOG.log(System.Logger.Level.ERROR, "drain loop stalled since " + last + "; not pinging the watchdog");
                try {
                    Thread.sleep(every);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
    }
}

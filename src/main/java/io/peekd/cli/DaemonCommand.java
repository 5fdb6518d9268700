package io.peekd.cli;

import io.peekd.capture.KernelProbe;
import io.peekd.config.Config;
import io.peekd.daemon.Daemon;
import io.peekd.daemon.DaemonSettings;
import io.peekd.logging.Logs;
import io.peekd.web.IgnoreFile;
import io.peekd.web.Tokens;
import io.peekd.web.WebOptions;
import io.peekd.web.WebServer;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "daemon", mixinStandardHelpOptions = true,
        description = {"Run the capture daemon in the foreground. Needs root (or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN).",
                "It records every process's traffic into the database every write_limit_seconds;",
                "Ctrl-C or SIGTERM writes the last window and exits, SIGHUP reloads the config file.",
                "Under systemd (Type=notify) it reports readiness and answers the watchdog."})
final class DaemonCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Option(names = "--web-port", paramLabel = "PORT",
            description = "Also serve the web dashboard on this port (on web.bind, 127.0.0.1 by default); see `peekd web --help`.")
    Integer webPort;

    @Option(names = "--log-level", paramLabel = "LEVEL", converter = LogLevelConverter.class,
            description = "How much peekd.log says: error, warn, info, debug or trace (default: [log] level in the config).")
    Config.Log.Level logLevel;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Config c = config.load();
        Logs.configure(c.paths().log(), logLevel != null ? logLevel : c.log().level());
        // The dashboard binds first: a port in use or a missing token stops the daemon before capture starts.
        WebServer web = null;
        if (webPort != null || c.web().enabled()) {
            try {
                web = WebServer.start(WebOptions.from(c, config.file, webPort, null));
            } catch (Tokens.Problem | java.net.BindException e) {
                spec.commandLine().getErr().println("peekd: " + e.getMessage());
                return 1;
            }
        }
        Daemon d;
        Thread starting = startingKeepalive();
        try {
            d = Daemon.start(DaemonSettings.from(c), web == null ? List.of() : List.of(web.subscriber()));
        } catch (KernelProbe.Unsupported e) {
            if (web != null) web.close();
            spec.commandLine().getErr().println("peekd: " + e.getMessage());
            return 1;
        } finally {
            starting.interrupt();
        }
        // SIGHUP reloads the alert rules along with the config.
        d.onReload(cfg -> d.alerts().requestReload("SIGHUP"));
        // ignore_extra.toml (the dashboard's ignore list, or hand edits) is reloaded while running.
        AutoCloseable ignoreWatch = IgnoreFile.nextTo(config.file).watch(d::extraIgnore);
        if (web != null) {
            web.liveWindow(d::liveRows);
            spec.commandLine().getOut().println("peekd: dashboard at " + web.url());
            spec.commandLine().getOut().flush();
        }
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(d::close));
        try {
            return new DaemonLifecycle(d, config.file, logLevel, c.paths().errorLog()).run();
        } finally {
            try {
                ignoreWatch.close();
            } catch (Exception ignored) {
                // a polling thread; nothing to release
            }
            if (web != null) web.close();
        }
    }

    /**
     * Opening the database may upgrade its schema, which rewrites the history: minutes for
     * tens of millions of windows. Under systemd (Type=notify, TimeoutStartSec=60s) a start
     * that takes that long would be killed, the upgrade's transaction rolled back, and the
     * service restarted into the same upgrade for ever. Until the daemon is up, this asks
     * systemd for more time every 20 seconds and says why in the unit's status.
     */
    private static Thread startingKeepalive() {
        io.peekd.systemd.SdNotify notify = io.peekd.systemd.SdNotify.fromEnvironment();
        Runnable more = () -> {
            notify.extendTimeout(java.time.Duration.ofSeconds(60));
            notify.status("starting: opening the database (upgrading a large history can take minutes)");
        };
        more.run(); // before the daemon starts, whatever the scheduler does with the thread
        return Thread.ofPlatform().daemon().name("peekd-starting").start(() -> {
            try {
                while (true) {
                    Thread.sleep(20_000);
                    more.run();
                }
            } catch (InterruptedException e) {
                // the daemon is up, or failed to start
            } finally {
                notify.close();
            }
        });
    }
}

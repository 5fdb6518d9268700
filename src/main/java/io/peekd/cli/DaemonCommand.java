package io.peekd.cli;

import io.peekd.capture.KernelProbe;
import io.peekd.config.Config;
import io.peekd.daemon.Daemon;
import io.peekd.daemon.DaemonSettings;
import io.peekd.logging.Logs;
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

    @Option(names = "--web-port", paramLabel = "PORT", description = "Also serve the web dashboard on this port.")
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
        if (webPort != null)
            spec.commandLine().getErr().println("peekd: the web dashboard is not part of this build yet; ignoring --web-port");
        Daemon d;
        try {
            d = Daemon.start(DaemonSettings.from(c));
        } catch (KernelProbe.Unsupported e) {
            spec.commandLine().getErr().println("peekd: " + e.getMessage());
            return 1;
        }
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(d::close));
        return new DaemonLifecycle(d, config.file, logLevel, c.paths().errorLog()).run();
    }
}

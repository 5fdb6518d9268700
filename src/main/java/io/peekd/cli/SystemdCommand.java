package io.peekd.cli;

import io.peekd.config.Config;
import io.peekd.systemd.UnitFile;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "systemd", mixinStandardHelpOptions = true,
        description = {"Write the hardened systemd unit peekd.service and say what was done.",
                "The unit runs `peekd daemon` as root with only the capabilities it needs, a read-only system except peekd's own directories,",
                "readiness and watchdog notifications, and a restart on failure. Then start it with:",
                "  systemctl enable --now peekd"})
final class SystemdCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Option(names = "--unit-dir", paramLabel = "DIR", description = "Where to write peekd.service (default: ${DEFAULT-VALUE}).")
    Path unitDir = Path.of("/etc/systemd/system");

    @Option(names = "--exec", paramLabel = "PATH",
            description = "The peekd launcher the unit runs (default: this launcher, else /usr/bin/peekd).")
    Path exec;

    @Option(names = "--print", description = "Print the unit instead of writing it.")
    boolean print;

    @Option(names = "--no-reload", description = "Do not run `systemctl daemon-reload` after writing.")
    boolean noReload;

    @Spec
    CommandSpec spec;

    /** The launcher script exports its own path, so the unit runs what the user ran. */
    static Path defaultExec() {
        String launcher = System.getenv("PEEKD_LAUNCHER");
        return launcher != null && !launcher.isBlank() ? Path.of(launcher) : Path.of("/usr/bin/peekd");
    }

    @Override
    public Integer call() throws IOException, InterruptedException {
        Config c = config.load();
        PrintWriter out = spec.commandLine().getOut();
        String unit = UnitFile.render(exec != null ? exec : defaultExec(), config.file.toAbsolutePath(), c);
        if (print) {
            out.print(unit);
            out.flush(); // print() does not flush an autoflush PrintWriter, and main() exits at once
            return 0;
        }
        Path target = unitDir.resolve(UnitFile.NAME);
        Files.createDirectories(unitDir);
        Path tmp = unitDir.resolve(UnitFile.NAME + ".tmp");
        Files.writeString(tmp, unit);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        out.println("wrote " + target);
        out.println("  runs: " + unit.lines().filter(l -> l.startsWith("ExecStart=")).findFirst().orElse("").substring(10));
        out.println("  capabilities: " + String.join(" ", UnitFile.capabilities(unit)));
        if (!noReload) reload(out);
        out.println("next: systemctl enable --now peekd   (then: peekd status, journalctl -u peekd)");
        return 0;
    }

    /** systemd only reads new units after daemon-reload; without systemd as init there is nothing to tell. */
    private static void reload(PrintWriter out) throws IOException, InterruptedException {
        if (!Files.isDirectory(Path.of("/run/systemd/system"))) {
            out.println("systemd is not running here; skipped systemctl daemon-reload");
            return;
        }
        Process p = new ProcessBuilder("systemctl", "daemon-reload").redirectErrorStream(true).start();
        String msg = new String(p.getInputStream().readAllBytes()).trim();
        out.println(p.waitFor() == 0 ? "ran systemctl daemon-reload" : "systemctl daemon-reload failed: " + msg);
    }
}

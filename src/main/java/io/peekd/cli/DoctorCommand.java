package io.peekd.cli;

import io.peekd.config.Config;
import io.peekd.doctor.Check;
import io.peekd.doctor.Doctor;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Check that this machine can run peekd, and say how to fix what is missing.",
                "One line per check: ✔ fine, ! worth a look, ✘ broken, each with what to do. Covers the kernel, BTF, privileges, libbpf, cgroup2, a trial load and attach of",
                "every hook, fanotify, the desktop user's D-Bus, GeoIP files, the database and free disk space.",
                "Run it as root, as the daemon runs. Exit code 1 when any check is ✘."})
final class DoctorCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Config c;
        boolean configBroken = false;
        try {
            c = config.load();
            out.println("✔ config: " + config.file + (java.nio.file.Files.exists(config.file) ? "" : " is absent: built-in defaults"));
        } catch (ConfigOption.Invalid e) {
            out.println("✘ config: " + e.getMessage() + " — fix: correct the file; the checks below use the defaults");
            c = Config.defaults();
            configBroken = true;
        }
        List<Check> checks = new Doctor(c).run();
        checks.forEach(ch -> out.println(ch.line()));
        out.flush();
        boolean failed = configBroken || checks.stream().anyMatch(ch -> ch.status() == Check.Status.FAIL);
        return failed ? 1 : 0;
    }
}

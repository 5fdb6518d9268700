package io.peekd.cli;

import io.peekd.config.Config;
import io.peekd.config.ConfigLoader;
import io.peekd.systemd.UnitFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "install", mixinStandardHelpOptions = true,
        description = {"Install this build from source for all users (the .deb does this by itself).",
                "It puts in place PREFIX/bin/peekd (the launcher), PREFIX/lib/peekd/peekd.jar, an AOT cache for fast starts,",
                "/etc/peekd/config.toml (only if there is none), bash completion, and the systemd unit.",
                "Run it from the built jar: bin/peekd install (after mvn package). Undo with peekd uninstall.",
                "With the Debian package, use dpkg (apt) instead."})
final class InstallCommand implements Callable<Integer> {
    /**
     * Lists what install created ("file PATH"), so that uninstall removes
     * exactly that, and the config in use ("config PATH"), whose paths
     * --purge follows.
     */
    static final String MANIFEST = "installed-files";

    @Option(names = "--prefix", paramLabel = "DIR", description = "Install under this prefix (default: ${DEFAULT-VALUE}).")
    Path prefix = Path.of("/usr/local");

    @Option(names = "--config-dir", paramLabel = "DIR", description = "Where config.toml goes (default: ${DEFAULT-VALUE}).")
    Path configDir = ConfigLoader.DEFAULT_PATH.getParent();

    @Option(names = "--unit-dir", paramLabel = "DIR", description = "Where peekd.service goes (default: ${DEFAULT-VALUE}).")
    Path unitDir = Path.of("/etc/systemd/system");

    @Option(names = "--completion-dir", paramLabel = "DIR",
            description = "Where the bash completion goes (default: PREFIX/share/bash-completion/completions).")
    Path completionDir;

    @Option(names = "--jar", paramLabel = "FILE", description = "The peekd jar to install (default: the one running).")
    Path jar;

    @Option(names = "--no-systemd", description = "Do not write the systemd unit.")
    boolean noSystemd;

    @Option(names = "--no-aot", description = "Skip building the AOT cache (slower command start-up).")
    boolean noAot;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        Path source = jar != null ? jar : runningJar();
        if (source == null || !Files.isRegularFile(source)) {
            spec.commandLine().getErr().println("peekd: install needs the built jar: run `mvn package`, then bin/peekd install"
                    + " (or pass --jar target/peekd.jar)");
            return 1;
        }
        List<Path> created = new ArrayList<>();
        Path lib = prefix.resolve("lib/peekd");
        Files.createDirectories(lib);
        Path installedJar = lib.resolve("peekd.jar");
        if (!source.toAbsolutePath().equals(installedJar.toAbsolutePath()))
            Files.copy(source, installedJar, StandardCopyOption.REPLACE_EXISTING);
        created.add(installedJar);
        say(out, "installed " + installedJar);
        Path javaHome = lib.resolve("java-home");
        Files.writeString(javaHome, System.getProperty("java.home") + "\n");
        created.add(javaHome);
        say(out, "runtime   " + System.getProperty("java.home") + " (recorded in " + javaHome + ")");

        Path launcher = prefix.resolve("bin/peekd");
        Files.createDirectories(launcher.getParent());
        copyResource("peekd", launcher, "rwxr-xr-x");
        created.add(launcher);
        say(out, "installed " + launcher);

        Path config = configDir.resolve("config.toml");
        if (Files.exists(config)) {
            say(out, "kept      " + config + " (already there)");
        } else {
            Files.createDirectories(configDir);
            copyResource("config.toml", config, "rw-r-----");
            say(out, "installed " + config);
        }

        Path completion = (completionDir != null ? completionDir : prefix.resolve("share/bash-completion/completions")).resolve("peekd");
        Files.createDirectories(completion.getParent());
        Files.writeString(completion, AutoComplete.bash("peekd", Main.commandLine()));
        created.add(completion);
        say(out, "installed " + completion);

        if (!noSystemd) {
            Config c = ConfigLoader.load(config);
            Path unit = unitDir.resolve(UnitFile.NAME);
            Files.createDirectories(unitDir);
            Files.writeString(unit, UnitFile.render(launcher.toAbsolutePath(), config.toAbsolutePath(), c));
            created.add(unit);
            say(out, "installed " + unit);
            if (Files.isDirectory(Path.of("/run/systemd/system"))) {
                run(List.of("systemctl", "daemon-reload"));
                say(out, "ran       systemctl daemon-reload");
            }
        }
        Path manifest = lib.resolve(MANIFEST);
        if (!noAot) {
            Path aot = lib.resolve("peekd.aot");
            int rc = run(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-XX:+UseSerialGC", "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1",
                    "-XX:AOTCacheOutput=" + aot, "-Xlog:aot=off", "-Xlog:cds=off",
                    // The training run also leaves the SQLite library beside the jar (store.NativeLibrary).
                    "-Dpeekd.native.dir=" + lib.resolve("native"), "-jar", installedJar.toString(), "aot-train"));
            Files.deleteIfExists(lib.resolve("peekd.aot.config"));
            if (rc == 0 && Files.exists(aot)) {
                created.add(aot);
                say(out, "built     " + aot + " (AOT cache: faster start-up)");
            } else {
                say(out, "skipped   the AOT cache (the JVM could not build it); peekd works without it");
            }
        }
        created.add(manifest);
        List<String> lines = new ArrayList<>();
        lines.add("config " + config.toAbsolutePath());
        created.forEach(p -> lines.add("file " + p.toAbsolutePath()));
        Files.write(manifest, lines);
        say(out, "next: peekd doctor, then systemctl enable --now peekd   (undo: peekd uninstall --prefix " + prefix + ")");
        return 0;
    }

    private static void say(PrintWriter out, String s) {
        out.println(s);
        out.flush();
    }

    private static Path runningJar() throws URISyntaxException {
        var src = Main.class.getProtectionDomain().getCodeSource();
        if (src == null) return null;
        Path p = Path.of(src.getLocation().toURI());
        return p.toString().endsWith(".jar") ? p : null;
    }

    private static void copyResource(String name, Path target, String perms) throws IOException {
        try (InputStream in = InstallCommand.class.getResourceAsStream("/io/peekd/ops/" + name)) {
            if (in == null) throw new IOException("this jar lacks io/peekd/ops/" + name + " (built without its resources?)");
            Files.copy(in, target, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(perms));
    }

    /** Runs a helper with its output discarded, bounded in time; returns its exit code (-1 when it hung). */
    static int run(List<String> argv) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        if (!p.waitFor(180, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return -1;
        }
        return p.exitValue();
    }
}

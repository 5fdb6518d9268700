package io.peekd.it;

import io.peekd.testkit.TestConfig;
import io.peekd.testkit.Tgen;
import io.peekd.testkit.Exec;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code peekd daemon} as a real child process (signals, exit codes, systemd
 * notifications), on this build's classes, with its own dirs and config.
 */
final class DaemonProcess implements AutoCloseable {
    final Path dir;
    final Path config;
    final Process process;
    final Path output;

    private DaemonProcess(Path dir, Path config, Process process, Path output) {
        this.dir = dir;
        this.config = config;
        this.process = process;
        this.output = output;
    }

    static Path newDir(String prefix) throws Exception {
        Path base = Tgen.testDir();
        return Files.createTempDirectory(base, prefix);
    }

    /** The config of a test instance: its own dirs, nothing ignored, plus {@code extra}. */
    static String config(Path dir, String extra) {
        return TestConfig.paths(dir) + """

                [capture]
                drain_interval_ms = 200

                [log]
                ignore_ports = []
                ignore_domains = []
                ignore_ips = []
                """ + extra;
    }

    /** Starts {@code java ... peekd <args> --config dir/config.toml} with extra environment; prefix wraps the java command. */
    static DaemonProcess start(Path dir, String configText, Map<String, String> env, List<String> prefix, String... args)
            throws Exception {
        Path config = dir.resolve("config.toml");
        Files.writeString(config, configText);
        List<String> argv = new ArrayList<>(prefix);
        argv.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx128m", "-cp", System.getProperty("java.class.path"),
                "io.peekd.cli.Main"));
        argv.addAll(List.of(args));
        argv.addAll(List.of("--config", config.toString()));
        Path out = dir.resolve("daemon.out");
        ProcessBuilder pb = new ProcessBuilder(argv).redirectErrorStream(true).redirectOutput(out.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        pb.environment().putAll(env);
        return new DaemonProcess(dir, config, pb.start(), out);
    }

    void signal(String name) {
        Exec e = Exec.run(Duration.ofSeconds(10), List.of("kill", "-" + name, Long.toString(process.pid())));
        if (e.exitCode() != 0) throw new AssertionError("kill -" + name + " failed: " + e.stderr());
    }

    String output() throws Exception {
        return Files.exists(output) ? Files.readString(output) : "";
    }

    /** Runs a peekd command in this JVM against the instance's config. */
    String cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        List<String> argv = new ArrayList<>(List.of(args));
        argv.add(1, "--config");
        argv.add(2, config.toString());
        int rc = io.peekd.cli.Main.run(new PrintWriter(out), new PrintWriter(err), argv.toArray(String[]::new));
        if (rc != 0) throw new AssertionError("peekd " + argv + " exited " + rc + ": " + err);
        return out.toString();
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }
}

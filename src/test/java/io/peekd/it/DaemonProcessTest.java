package io.peekd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.capture.Kernel;
import io.peekd.cli.Main;
import io.peekd.testkit.TestConfig;
import io.peekd.testkit.Tgen;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The daemon as a real separate process: signals, exit codes, and what it tells the operator. */
class DaemonProcessTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static Path newDir() throws Exception {
        Path base = Tgen.testDir();
        return Files.createTempDirectory(base, "proc-");
    }

    private static Path config(Path dir, String extra) throws Exception {
        Path c = dir.resolve("config.toml");
        Files.writeString(c, TestConfig.paths(dir) + """

                [log]
                ignore_ports = []
                ignore_domains = []
                ignore_ips = []
                """ + extra);
        return c;
    }

    private static List<String> javaCommand(String... args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "io.peekd.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    private static String[] run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new String[] {Integer.toString(rc), out.toString(), err.toString()};
    }

    @ParameterizedTest
    @ValueSource(strings = {"INT", "TERM"})
    void signalWritesTheOpenWindowBeforeExit(String signal) throws Exception {
        Kernel.require();
        Path dir = newDir();
        // An hour-long window: only the shutdown flush can write these bytes.
        Path cfg = config(dir, "\n[database]\nwrite_limit_seconds = 3600\n\n[capture]\ndrain_interval_ms = 200\n");
        Process daemon = new ProcessBuilder(javaCommand("daemon", "--config", cfg.toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("daemon.out").toFile()).start();
        try {
            Path metrics = dir.resolve("run/metrics.json");
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!Files.exists(metrics) && daemon.isAlive() && System.nanoTime() < deadline) Thread.sleep(100);
            assertThat(Files.exists(metrics)).as("daemon started: " + Files.readString(dir.resolve("daemon.out"))).isTrue();

            Path srv = Tgen.copyAs("sig-srv-" + signal), cli = Tgen.copyAs("sig-cli-" + signal);
            Tgen.Result c;
            try (Tgen.Running s = Tgen.start(srv, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "99991")) {
                c = Tgen.run(cli, "tcp-send", "--to", "127.0.0.1:" + s.port(), "--bytes", "99991");
                s.await();
            }
            Thread.sleep(600); // let at least one drain see the traffic before the signal
            new ProcessBuilder("kill", "-" + signal, Long.toString(daemon.pid())).start().waitFor();
            assertThat(daemon.waitFor(20, TimeUnit.SECONDS)).as("daemon exits after SIG" + signal).isTrue();

            String[] q = run("query", "--config", cfg.toString(), "--json", "--since", "2h", "--exe", cli.toString());
            assertThat(q[0]).isEqualTo("0");
            long sent = 0;
            for (JsonNode r : JSON.readTree(q[1])) sent += r.get("sent").asLong();
            assertThat(sent).isEqualTo(c.sent()).isEqualTo(99991);
            assertThat(Files.exists(metrics)).as("metrics removed on clean exit").isFalse();
        } finally {
            daemon.destroyForcibly();
        }
    }

    @Test
    void withoutCapabilitiesItSaysWhatIsMissingAndExits1() throws Exception {
        Kernel.require();
        Path dir = newDir();
        Path cfg = config(dir, "");
        List<String> cmd = new ArrayList<>(List.of("setpriv", "--bounding-set=-all", "--inh-caps=-all"));
        cmd.addAll(javaCommand("daemon", "--config", cfg.toString()));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
        assertThat(p.exitValue()).as(out).isEqualTo(1);
        assertThat(out).contains("CAP_BPF").doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(out.lines().filter(l -> l.startsWith("peekd:")).count()).isEqualTo(1);
    }

    @Test
    void aBrokenConfigNamesKeyAndLineExits2AndStartsNothing() throws Exception {
        Path dir = newDir();
        Path cfg = config(dir, "\n[web]\nport = \"abc\"\n");
        String[] r = run("daemon", "--config", cfg.toString());
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("web.port").contains(":12:");
        assertThat(dir.resolve("run")).doesNotExist();
        assertThat(dir.resolve("data")).doesNotExist();
    }

    @Test
    void aFullFlowMapIsReportedAsALossNotHidden() throws Exception {
        Kernel.require();
        Path dir = newDir();
        Path cfg = config(dir, "\n[capture]\nflow_map_entries = 1024\ndrain_interval_ms = 200\n\n[metrics]\ninterval_seconds = 1\n");
        Process daemon = new ProcessBuilder(javaCommand("daemon", "--config", cfg.toString()))
                .redirectErrorStream(true).redirectOutput(dir.resolve("daemon.out").toFile()).start();
        try {
            Path metrics = dir.resolve("run/metrics.json");
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!Files.exists(metrics) && daemon.isAlive() && System.nanoTime() < deadline) Thread.sleep(100);
            assertThat(Files.exists(metrics)).isTrue();
            // 2000 distinct destinations from one unconnected socket: more flows than the map holds.
            long sent = 0;
            try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
                byte[] payload = new byte[37];
                for (int port = 30000; port < 32000; port++) {
                    s.send(new java.net.DatagramPacket(payload, payload.length, java.net.InetAddress.getLoopbackAddress(), port));
                    sent += payload.length;
                }
            }
            JsonNode m = null;
            deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            while (System.nanoTime() < deadline) {
                m = JSON.readTree(metrics.toFile());
                if (m.path("capture").path("mapFull").asLong() > 0) break;
                Thread.sleep(200);
            }
            assertThat(m.path("capture").path("mapFull").asLong()).isPositive();
            assertThat(m.path("capture").path("mapFullSentBytes").asLong()).isPositive();
            assertThat(m.path("losses_total").asLong()).isPositive();
            String[] st = run("status", "--config", cfg.toString());
            assertThat(st[0]).isEqualTo("0");
            assertThat(st[1]).contains("map full").doesNotContain("losses:       none");
            Path errorLog = dir.resolve("log/error.log");
            deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (!Files.exists(errorLog) && System.nanoTime() < deadline) Thread.sleep(100);
            assertThat(Files.readString(errorLog)).contains("flow map full").contains("unattributed");
            assertThat(sent).isEqualTo(2000L * 37);
        } finally {
            daemon.destroy();
            daemon.waitFor(20, TimeUnit.SECONDS);
            daemon.destroyForcibly();
        }
    }

    @Test
    void statusReportsANotRunningDaemonWithExit3() throws Exception {
        Path dir = newDir();
        String[] r = run("status", "--config", config(dir, "").toString());
        assertThat(r[0]).isEqualTo("3");
        assertThat(r[1]).contains("not running");
    }

    @Test
    void statusNamesABrokenMetricsFile() throws Exception {
        Path dir = newDir();
        Path cfg = config(dir, "");
        Path metrics = Files.createDirectories(dir.resolve("run")).resolve("metrics.json");
        Files.writeString(metrics, "{\"pid\": 1} and more");
        String[] r = run("status", "--config", cfg.toString());
        assertThat(r[0]).isNotEqualTo("0").isNotEqualTo("3");
        assertThat(r[2]).contains("cannot read " + metrics).contains("not the daemon's metrics");
    }
}

package io.peekd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.bpf.UnixDatagram;
import io.peekd.capture.Kernel;
import io.peekd.testkit.Tgen;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The daemon as systemd runs it: a real child process, a notify socket the
 * test binds in place of systemd, real signals. SIGHUP reloads (and survives
 * a broken config), SIGTERM stores the open window and ends the process
 * within 5 s with status 0.
 */
class LifecycleKernelTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Datagrams until one contains {@code wanted} (bounded); returns all seen. */
    private static List<String> until(UnixDatagram sock, String wanted) {
        List<String> seen = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            String m = sock.receive(Duration.ofSeconds(1));
            if (m == null) continue;
            seen.add(m);
            if (m.contains(wanted)) return seen;
        }
        throw new AssertionError("no '" + wanted + "' from the daemon; got " + seen);
    }

    @Test
    void notifiesSystemdReloadsOnHupAndFlushesOnTerm() throws Exception {
        Kernel.require();
        Path dir = DaemonProcess.newDir("lifecycle-");
        // A long window: the rows can only reach the database through the flush at SIGTERM.
        String cfg = DaemonProcess.config(dir, """

                [database]
                write_limit_seconds = 600
                """);
        String sockPath = dir.resolve("notify.sock").toString();
        try (UnixDatagram systemd = UnixDatagram.bind(sockPath);
             DaemonProcess d = DaemonProcess.start(dir, cfg,
                     Map.of("NOTIFY_SOCKET", sockPath, "WATCHDOG_USEC", "1000000"), List.of(), "daemon", "--log-level", "info")) {
            List<String> boot = until(systemd, "READY=1");
            assertThat(boot.getLast()).contains("STATUS=capturing with hook set");
            // While the database opens (a schema upgrade may take minutes), systemd is asked for more time.
            assertThat(boot.getFirst()).isEqualTo("EXTEND_TIMEOUT_USEC=60000000");
            assertThat(boot).anyMatch(m -> m.startsWith("STATUS=starting: opening the database"));
            until(systemd, "WATCHDOG=1");

            Path srv = Tgen.copyAs("tg-life-srv"), cli = Tgen.copyAs("tg-life-cli");
            Tgen.Result c;
            try (Tgen.Running server = Tgen.start(srv, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "123457")) {
                c = Tgen.run(cli, "tcp-send", "--to", "127.0.0.1:" + server.port(), "--bytes", "123457", "--via", "write");
                server.await();
            }

            // A good reload: debug logging appears in peekd.log.
            Files.writeString(d.config, cfg + "\n[metrics]\ninterval_seconds = 2\n");
            d.signal("HUP");
            until(systemd, "RELOADING=1");
            assertThat(until(systemd, "READY=1").getLast()).contains("reloaded");
            Path log = dir.resolve("log/peekd.log");
            assertThat(Files.readString(log)).contains("configuration reloaded");

            // A broken config: refused, reported in error.log, the daemon keeps going.
            Files.writeString(d.config, cfg + "\n[metrics]\ninterval_seconds = \"soon\"\n");
            d.signal("HUP");
            assertThat(until(systemd, "READY=1").getLast()).contains("refused");
            assertThat(Files.readString(dir.resolve("log/error.log"))).contains("reload refused", "interval_seconds");
            assertThat(d.process.isAlive()).isTrue();

            d.signal("TERM");
            // No timing assertion: the 5 s stop budget is enforced by the daemon itself (and systemd), and a
            // loaded machine may need its grace period; what must hold is a clean exit with nothing lost.
            assertThat(d.process.waitFor(60, TimeUnit.SECONDS)).as("exited after SIGTERM").isTrue();
            assertThat(d.process.exitValue()).as(d.output()).isZero();
            until(systemd, "STOPPING=1");
            assertThat(dir.resolve("run/metrics.json")).doesNotExist();

            Files.writeString(d.config, cfg);
            JsonNode rows = JSON.readTree(d.cli("query", "--json", "--since", "1h", "--exe", cli.toString()));
            long sent = 0, recv = 0;
            for (JsonNode r : rows) {
                sent += r.get("sent").asLong();
                recv += r.get("recv").asLong();
            }
            assertThat(sent).as("bytes flushed at SIGTERM").isEqualTo(c.sent());
            assertThat(recv).isEqualTo(c.recv());

            for (String line : Files.readAllLines(log)) assertThat(JSON.readTree(line).has("msg")).as(line).isTrue();
            assertThat(Files.readString(log)).contains("stopping: writing the last window", "\"level\":\"INFO\"");
        }
    }

    /** setpriv's spelling of the unit's capabilities, keeping those this test process may grant at all. */
    private static String boundingSet(List<String> caps) {
        StringBuilder b = new StringBuilder("-all");
        for (String c : caps) {
            String name = c.toLowerCase(java.util.Locale.ROOT).substring(4);
            var probe = io.peekd.testkit.Exec.run(Duration.ofSeconds(10), List.of("setpriv", "--bounding-set=-all,+" + name, "true"));
            if (probe.exitCode() == 0) b.append(",+").append(name);
        }
        return b.toString();
    }

    private static long capBnd(long pid) throws Exception {
        for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status")))
            if (l.startsWith("CapBnd:")) return Long.parseUnsignedLong(l.substring(7).trim(), 16);
        throw new AssertionError("no CapBnd");
    }

    @Test
    void theUnitsCapabilitiesAreEnoughAndNetAdminOrSysAdminIsNeeded() throws Exception {
        Kernel.require();
        List<String> unitCaps = io.peekd.systemd.UnitFile.capabilities(
                io.peekd.systemd.UnitFile.render(Path.of("/usr/bin/peekd"), Path.of("/etc/peekd/config.toml"),
                        io.peekd.config.Config.defaults()));
        String bounding = boundingSet(unitCaps);
        Path dir = DaemonProcess.newDir("caps-");
        String cfg = DaemonProcess.config(dir, "\n[database]\nwrite_limit_seconds = 1\n");
        try (DaemonProcess d = DaemonProcess.start(dir, cfg, Map.of(),
                List.of("setpriv", "--bounding-set=" + bounding, "--inh-caps=-all", "--"), "daemon")) {
            Path metrics = dir.resolve("run/metrics.json");
            for (int i = 0; i < 120 && !Files.exists(metrics) && d.process.isAlive(); i++) Thread.sleep(250);
            assertThat(metrics).as(d.output()).exists();
            // CAP_BPF is bit 39, CAP_SYS_MODULE (never granted) bit 16.
            long bnd = capBnd(d.process.pid());
            assertThat(bnd & (1L << 39)).isNotZero();
            assertThat(bnd & (1L << 16)).isZero();

            Path srv = Tgen.copyAs("tg-caps-srv"), cli = Tgen.copyAs("tg-caps-cli");
            Tgen.Result c;
            try (Tgen.Running server = Tgen.start(srv, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "65537")) {
                c = Tgen.run(cli, "tcp-send", "--to", "127.0.0.1:" + server.port(), "--bytes", "65537", "--via", "write");
                server.await();
            }
            long sent = 0;
            for (int i = 0; i < 60 && sent < c.sent(); i++) {
                Thread.sleep(250);
                sent = 0;
                for (JsonNode r : JSON.readTree(d.cli("query", "--json", "--since", "1h", "--exe", cli.toString())))
                    sent += r.get("sent").asLong();
            }
            assertThat(sent).isEqualTo(c.sent());
            d.signal("TERM");
            assertThat(d.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(d.process.exitValue()).as(d.output()).isZero();
        }

        Path dir2 = DaemonProcess.newDir("nocaps-");
        try (DaemonProcess d = DaemonProcess.start(dir2, DaemonProcess.config(dir2, ""), Map.of(),
                List.of("setpriv", "--bounding-set=" + bounding.replace(",+net_admin", "").replace(",+sys_admin", ""), "--inh-caps=-all", "--"), "daemon")) {
            assertThat(d.process.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(d.process.exitValue()).isNotZero();
            assertThat(d.output()).contains("peekd:").doesNotContain("\tat io.peekd");
        }
    }
}

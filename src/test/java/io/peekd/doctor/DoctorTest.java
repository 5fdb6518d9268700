package io.peekd.doctor;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.capture.Kernel;
import io.peekd.cli.Main;
import io.peekd.config.Config;
import io.peekd.config.ConfigLoader;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.Store;
import io.peekd.testkit.TestConfig;
import java.io.PrintWriter;
import java.io.RandomAccessFile;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** peekd doctor on this machine, with real files, a real database and a real dbus-daemon. */
class DoctorTest {

    private static Path config(Path dir, String extra) throws Exception {
        Path cfg = dir.resolve("config.toml");
        Files.writeString(cfg, TestConfig.paths(dir) + extra);
        return cfg;
    }

    private static void storeSomeRows(Path db) throws Exception {
        try (Store s = Store.open(db)) {
            for (int i = 0; i < 20; i++) {
                Identity id = new Identity("/opt/app" + i, "app" + i, "x".repeat(200), null, i, null, null, null,
                        null, 0, 0, "root", null, null);
                assertThat(s.writer().submit(List.of(new FlowRow(Instant.now(), id, "tcp", 4, "127.0.0.1", i, "127.0.0.1", 80,
                        null, null, null, i, i, 1)))).isTrue();
            }
            assertThat(s.writer().flush(Duration.ofSeconds(60))).isTrue();
        }
    }

    private static int doctor(Path cfg, StringWriter out) {
        return Main.run(new PrintWriter(out), new PrintWriter(new StringWriter()), "doctor", "--config", cfg.toString());
    }

    @Test
    void aHealthyMachinePassesEveryCheckAndTriesEveryHook(@TempDir Path dir) throws Exception {
        Kernel.require();
        Files.createDirectories(dir.resolve("data"));
        // A real country database (installed by scripts/setup), under the name a GeoLite2 user would give it.
        Files.copy(Path.of("/var/lib/peekd/geoip/country.mmdb"), dir.resolve("data/GeoLite2-Country.mmdb"));
        Path cfg = config(dir, "\n[desktop]\nuser = \"root\"\nnotifications = true\n\n[geoip]\ncountry_db = \""
                + dir.resolve("data/GeoLite2-Country.mmdb") + "\"\n");
        storeSomeRows(dir.resolve("data/peekd.db"));
        Path runUser = dir.resolve("run-user");
        Path bus = runUser.resolve("0/bus");
        Files.createDirectories(bus.getParent());
        Process dbus = new ProcessBuilder("dbus-daemon", "--session", "--nofork", "--address=unix:path=" + bus)
                .redirectErrorStream(true).redirectOutput(dir.resolve("dbus.out").toFile()).start();
        try {
            for (int i = 0; i < 100 && !Files.exists(bus); i++) Thread.sleep(100);
            List<Check> checks = new Doctor(ConfigLoader.load(cfg), runUser, Path.of("/etc/passwd")).run();
            List<String> lines = checks.stream().map(Check::line).toList();
            assertThat(checks).as(String.join("\n", lines)).noneMatch(c -> c.status() == Check.Status.FAIL);
            assertThat(lines).anyMatch(l -> l.startsWith("✔ kernel: Linux "))
                    .anyMatch(l -> l.startsWith("✔ btf: "))
                    .anyMatch(l -> l.startsWith("✔ libbpf: libbpf 1."))
                    .anyMatch(l -> l.startsWith("✔ cgroup2: mounted at "))
                    .anyMatch(l -> l.equals("✔ hook set: tracepoints"))
                    .anyMatch(l -> l.startsWith("✔ d-bus: session bus of root at " + bus + " accepts connections"))
                    .anyMatch(l -> l.startsWith("✔ mmdb: ") && l.contains("GeoLite2-Country.mmdb"))
                    .anyMatch(l -> l.startsWith("✔ database: ") && l.contains("passes the integrity check"))
                    .anyMatch(l -> l.startsWith("✔ disk: "));
            // Six tracepoints, six cgroup hooks, two getaddrinfo uprobes, the release hook.
            assertThat(lines.stream().filter(l -> l.startsWith("✔ hook on_"))).hasSize(15);
            // The fast path needs no iterator (some kernels refuse them): only the mapped slots.
            assertThat(lines).contains("✔ hook socket_slots: attached").noneMatch(l -> l.contains("flush_sockets"));
            assertThat(lines).allMatch(l -> !l.contains("\n"));
        } finally {
            dbus.destroy();
            dbus.waitFor(10, TimeUnit.SECONDS);
        }
        // The same through the CLI: exit 0 (warnings such as the absent session bus do not fail it).
        StringWriter out = new StringWriter();
        assertThat(doctor(cfg, out)).as(out.toString()).isZero();
        assertThat(out.toString()).contains("✔ config: " + cfg, "! d-bus: no session bus for root");
    }

    @Test
    void aDamagedDatabaseIsAFailureWithAFix(@TempDir Path dir) throws Exception {
        Path cfg = config(dir, "\n[desktop]\nnotifications = false\n");
        Path db = dir.resolve("data/peekd.db");
        Files.createDirectories(db.getParent());
        storeSomeRows(db);
        try (RandomAccessFile f = new RandomAccessFile(db.toFile(), "rw")) {
            byte[] junk = new byte[(int) f.length() - 4096];
            java.util.Arrays.fill(junk, (byte) 0x5a);
            f.seek(4096);
            f.write(junk);
        }
        Check c = new Doctor(ConfigLoader.load(cfg)).database();
        assertThat(c.status()).isEqualTo(Check.Status.FAIL);
        assertThat(c.line()).startsWith("✘ database: " + db + " is damaged").contains("— fix: stop peekd, move");
        StringWriter out = new StringWriter();
        assertThat(doctor(cfg, out)).isEqualTo(1);
        assertThat(out.toString()).contains("✘ database:");
    }

    @Test
    void aBrokenConfigIsReportedAndTheRestStillChecked(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("config.toml");
        Files.writeString(cfg, "[metrics]\ninterval_seconds = -3\n");
        StringWriter out = new StringWriter();
        assertThat(doctor(cfg, out)).isEqualTo(1);
        List<String> lines = new ArrayList<>(out.toString().lines().toList());
        assertThat(lines.getFirst()).startsWith("✘ config: ").contains("interval_seconds", "— fix:");
        assertThat(lines).anyMatch(l -> l.contains(" disk: "));
    }

    @Test
    void unknownDesktopUserAndMissingBusAreNamed(@TempDir Path dir) throws Exception {
        Path cfg = config(dir, "\n[desktop]\nuser = \"nobody-here-xyz\"\n");
        Config c = ConfigLoader.load(cfg);
        Check unknown = new Doctor(c, dir, Path.of("/etc/passwd")).dbus();
        assertThat(unknown.status()).isEqualTo(Check.Status.FAIL);
        assertThat(unknown.found()).contains("nobody-here-xyz");
        Check off = new Doctor(ConfigLoader.load(config(dir, "\n[desktop]\nnotifications = false\n"))).dbus();
        assertThat(off.status()).isEqualTo(Check.Status.OK);
        Check noBus = new Doctor(ConfigLoader.load(config(dir, "")), dir.resolve("none"), Path.of("/etc/passwd")).dbus();
        assertThat(noBus.status()).isEqualTo(Check.Status.WARN);
        assertThat(noBus.line()).contains("no session bus for root", "— fix:");
    }
}

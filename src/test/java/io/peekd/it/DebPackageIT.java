package io.peekd.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.capture.Kernel;
import io.peekd.testkit.Exec;
import io.peekd.testkit.NetNs;
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
 * The .deb as a user gets it: built by scripts/package, installed with
 * dpkg -i on this machine, the daemon started as the unit starts it, traffic
 * queried through the installed CLI, then removed and purged. Purge must
 * leave nothing but the history, and that too when asked.
 */
class DebPackageIT {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration LIMIT = Duration.ofMinutes(15);
    private static final List<Path> OWNED = List.of(Path.of("/etc/peekd"), Path.of("/var/log/peekd"), Path.of("/run/peekd"),
            Path.of("/usr/lib/peekd"), Path.of("/usr/bin/peekd"));
    private static final Path DATA = Path.of("/var/lib/peekd");

    private static Exec sh(Map<String, String> env, String... argv) {
        List<String> a = new ArrayList<>(List.of("env"));
        env.forEach((k, v) -> a.add(k + "=" + v));
        a.addAll(List.of(argv));
        return Exec.run(LIMIT, a);
    }

    private static Exec ok(String... argv) {
        Exec e = sh(Map.of(), argv);
        assertThat(e.exitCode()).as(String.join(" ", argv) + "\n" + e.stdout() + e.stderr()).isZero();
        return e;
    }

    private static boolean installed() {
        return Exec.run(Duration.ofSeconds(30), List.of("dpkg", "-s", "peekd")).exitCode() == 0;
    }

    @Test
    void installRunQueryRemoveAndPurge() throws Exception {
        Kernel.require();
        if (installed()) ok("dpkg", "--purge", "peekd");
        for (Path p : OWNED) assumeTrue(!Files.exists(p), p + " exists: this machine has a peekd not installed by this test");
        boolean dataWasThere = Files.exists(DATA);
        Path out = Tgen.testDir().resolve("deb");
        Exec pkg = ok("scripts/package", "--jar", System.getProperty("peekd.jar"), "--out", out.toString());
        Path deb = Path.of(pkg.stdout().strip().lines().reduce((a, b) -> b).orElseThrow());
        assertThat(deb.getFileName().toString()).isEqualTo("peekd_" + System.getProperty("peekd.version") + "_amd64.deb");
        assertThat(ok("dpkg-deb", "-f", deb.toString(), "Depends").stdout()).contains("libbpf1");

        Process daemon = null;
        try {
            ok("dpkg", "-i", deb.toString());
            for (String f : List.of("/usr/bin/peekd", "/usr/lib/peekd/runtime/bin/java", "/usr/lib/peekd/peekd.jar",
                    "/usr/lib/systemd/system/peekd.service", "/etc/peekd/config.toml", "/usr/share/man/man1/peekd.1.gz",
                    "/usr/share/man/man1/peekd-doctor.1.gz", "/usr/share/bash-completion/completions/peekd"))
                assertThat(Path.of(f)).exists();
            assertThat(Path.of("/usr/lib/peekd/peekd.aot")).as("AOT cache built by postinst").exists();
            assertThat(Files.readString(Path.of("/usr/lib/systemd/system/peekd.service")))
                    .contains("ExecStart=/usr/bin/peekd daemon\n", "Type=notify");
            assertThat(ok("/usr/bin/peekd", "--version").stdout()).contains("peekd " + System.getProperty("peekd.version"));
            assertThat(ok("man", "-l", "-P", "cat", "/usr/share/man/man1/peekd-doctor.1.gz").stdout()).contains("doctor");
            Exec doctor = sh(Map.of(), "/usr/bin/peekd", "doctor");
            assertThat(doctor.exitCode()).as(doctor.stdout()).isZero();
            assertThat(doctor.stdout()).contains("✔ hook set: tracepoints");

            // Start it as the unit does; the default config ignores loopback, so talk to a namespace peer.
            daemon = new ProcessBuilder("/usr/bin/peekd", "daemon").redirectErrorStream(true)
                    .redirectOutput(out.resolve("daemon.out").toFile()).start();
            Path metrics = Path.of("/run/peekd/metrics.json");
            for (int i = 0; i < 240 && !Files.exists(metrics) && daemon.isAlive(); i++) Thread.sleep(250);
            assertThat(metrics).as(Files.readString(out.resolve("daemon.out"))).exists();
            Path cli = Tgen.copyAs("tg-deb-cli"), srv = Tgen.copyAs("tg-deb-srv");
            Tgen.Result c;
            try (NetNs ns = NetNs.create();
                 Tgen.Running server = Tgen.start(ns, srv, "tcp-echo", "--listen", ns.peerV4().getHostAddress() + ":0")) {
                c = Tgen.run(cli, "tcp-duplex", "--to", ns.peerV4().getHostAddress() + ":" + server.port(),
                        "--bytes", "300007", "--dev", ns.hostIf());
            }
            long sent = 0, recv = 0;
            for (int i = 0; i < 80 && (sent < c.sent() || recv < c.recv()); i++) {
                Thread.sleep(250);
                sent = recv = 0;
                for (JsonNode r : JSON.readTree(ok("/usr/bin/peekd", "query", "--json", "--since", "1h", "--exe", cli.toString()).stdout())) {
                    sent += r.get("sent").asLong();
                    recv += r.get("recv").asLong();
                }
            }
            assertThat(sent).isEqualTo(c.sent());
            assertThat(recv).isEqualTo(c.recv());
            assertThat(ok("/usr/bin/peekd", "status").stdout()).contains("peekd is running");
            assertThat(Path.of("/var/log/peekd/peekd.log")).exists();

            ok("kill", "-TERM", Long.toString(daemon.pid()));
            assertThat(daemon.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(daemon.exitValue()).isZero();

            ok("dpkg", "-r", "peekd");
            assertThat(Path.of("/usr/bin/peekd")).doesNotExist();
            assertThat(Path.of("/usr/lib/peekd")).as("runtime, jar and AOT cache removed").doesNotExist();
            assertThat(Path.of("/etc/peekd/config.toml")).as("remove keeps conffiles").exists();
            assertThat(DATA.resolve("peekd.db")).exists();

            Exec purge = ok("dpkg", "--purge", "peekd");
            assertThat(purge.stdout()).contains("kept the traffic history in /var/lib/peekd");
            for (Path p : OWNED) assertThat(p).as("purged").doesNotExist();
            assertThat(DATA.resolve("peekd.db")).as("history kept unless asked").exists();

            if (!dataWasThere) {
                ok("dpkg", "-i", deb.toString());
                Exec all = sh(Map.of("PEEKD_PURGE_DATA", "yes"), "dpkg", "--purge", "peekd");
                assertThat(all.exitCode()).isZero();
                assertThat(DATA).as("history removed when asked").doesNotExist();
                for (Path p : OWNED) assertThat(p).doesNotExist();
            }
        } finally {
            if (daemon != null && daemon.isAlive()) {
                daemon.destroyForcibly();
                daemon.waitFor(10, TimeUnit.SECONDS);
            }
            if (installed()) Exec.run(LIMIT, List.of("dpkg", "--purge", "peekd"));
            // This test's own files in a data dir it did not create.
            if (dataWasThere) {
                for (String f : List.of("peekd.db", "peekd.db-wal", "peekd.db-shm", "peekd.db.writer-lock", "state.json"))
                    Files.deleteIfExists(DATA.resolve(f));
                Path tmp = DATA.resolve("tmp");
                if (Files.isDirectory(tmp)) {
                    try (var s = Files.walk(tmp)) {
                        for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
                    }
                }
            }
        }
    }
}

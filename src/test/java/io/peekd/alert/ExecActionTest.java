package io.peekd.alert;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.flow.FlowRow;
import io.peekd.store.AlertRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Exec actions run real programs; hostile values must arrive as data, never as shell syntax. */
class ExecActionTest {
    @TempDir
    Path dir;

    private static Map<String, String> env(Path f) throws Exception {
        Map<String, String> m = new HashMap<>();
        for (String kv : AlertFixture.nulSeparated(f)) {
            int eq = kv.indexOf('=');
            if (eq > 0) m.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return m;
    }

    @Test
    void aScriptGetsTheValuesAsArgvAndEnvironment() throws Exception {
        Path rec = AlertFixture.recorder(dir);
        Path out = dir.resolve("seen");
        try (AlertFixture f = AlertFixture.start(dir, """
                [[alerts]]
                name = "curl-outbound"
                exe = "/usr/bin/curl"
                rport = 443
                action = "exec"
                exec = "%s %s {exe} '{raddr}:{rport}' {domain} {sha256} {rule}"
                """.formatted(rec, out))) {
            f.batch(AlertRows.row("/usr/bin/curl", "93.184.216.34", 443, "example.org"),
                    AlertRows.row("/usr/bin/curl", "93.184.216.34", 80, "example.org"),
                    AlertRows.row("/usr/bin/wget", "93.184.216.34", 443, "example.org"));
            List<AlertRecord> log = f.awaitFinished(1);
            assertThat(log).singleElement().satisfies(a -> {
                assertThat(a.result()).as(a.detail()).isEqualTo("ok");
                assertThat(a.rule()).isEqualTo("curl-outbound");
                assertThat(a.exe()).isEqualTo("/usr/bin/curl");
                assertThat(a.rport()).isEqualTo(443);
                assertThat(a.flowJson()).contains("\"domain\":\"example.org\"");
            });
            assertThat(AlertFixture.nulSeparated(Path.of(out + ".argv")))
                    .containsExactly("/usr/bin/curl", "93.184.216.34:443", "example.org", "ab".repeat(32), "curl-outbound");
            Map<String, String> env = env(Path.of(out + ".env"));
            assertThat(env).containsEntry("PEEKD_EXE", "/usr/bin/curl").containsEntry("PEEKD_RADDR", "93.184.216.34")
                    .containsEntry("PEEKD_RPORT", "443").containsEntry("PEEKD_DOMAIN", "example.org")
                    .containsEntry("PEEKD_RULE", "curl-outbound").containsEntry("PEEKD_EVENT", "flow")
                    .containsEntry("PEEKD_USER", "alice").containsEntry("PEEKD_PID", "4242")
                    .containsEntry("PATH", ExecRunner.PATH);
            // The daemon's own environment is not handed on.
            assertThat(env).doesNotContainKey("HOME").doesNotContainKey("JAVA_HOME");
        }
    }

    @Test
    void aHostileDomainArrivesVerbatimAndRunsNothing() throws Exception {
        Path rec = AlertFixture.recorder(dir);
        Path out = dir.resolve("seen"), viaEnv = dir.resolve("via-env");
        Path pwned = dir.resolve("pwned"), pwned2 = dir.resolve("pwned2"), pwned3 = dir.resolve("pwned3");
        String hostile = "x.com; touch " + pwned + " $(id) `touch " + pwned2 + "`\ntouch " + pwned3
                + "\n'quoted' \"dq\" $PEEKD_EXE {exe} \\ && || > /dev/null";
        try (AlertFixture f = AlertFixture.start(dir, """
                [[alerts]]
                name = "args"
                exe = "/usr/bin/curl"
                exec = "%s %s {domain} 'd={domain}' \\"{domain}\\""

                [[alerts]]
                name = "script-reads-env"
                exe = "/usr/bin/curl"
                exec = ["/bin/sh", "-c", "printf '%%s' \\"$PEEKD_DOMAIN\\" > %s"]
                """.formatted(rec, out, viaEnv))) {
            FlowRow r = AlertRows.row("/usr/bin/curl", "10.9.8.7", 443, hostile);
            f.batch(r);
            List<AlertRecord> log = f.awaitFinished(2);
            assertThat(log).hasSize(2).allSatisfy(a -> assertThat(a.result()).as(a.detail()).isEqualTo("ok"));
            assertThat(AlertFixture.nulSeparated(Path.of(out + ".argv"))).containsExactly(hostile, "d=" + hostile, hostile);
            assertThat(env(Path.of(out + ".env"))).containsEntry("PEEKD_DOMAIN", hostile);
            assertThat(Files.readString(viaEnv)).isEqualTo(hostile);
            assertThat(pwned).doesNotExist();
            assertThat(pwned2).doesNotExist();
            assertThat(pwned3).doesNotExist();
            assertThat(Path.of("/tmp/pwned")).doesNotExist();
            // The alert log keeps the value as data too.
            assertThat(log.getFirst().domain()).isEqualTo(hostile);
        }
    }

    @Test
    void aFailingOrHangingCommandIsReportedAndKilled() throws Exception {
        Path pidFile = dir.resolve("sleeper.pid");
        try (AlertFixture f = AlertFixture.start(dir, """
                [[alerts]]
                name = "fails"
                exe = "/usr/bin/a"
                exec = ["/bin/sh", "-c", "echo boom >&2; exit 3"]

                [[alerts]]
                name = "hangs"
                exe = "/usr/bin/b"
                timeout_seconds = 1
                exec = ["/bin/sh", "-c", "echo $$ > %s; sleep 300 & wait"]

                [[alerts]]
                name = "missing"
                exe = "/usr/bin/c"
                exec = "/nonexistent/peekd-hook {exe}"
                """.formatted(pidFile))) {
            f.batch(AlertRows.row("/usr/bin/a", "10.0.0.1", 1, null), AlertRows.row("/usr/bin/b", "10.0.0.1", 1, null),
                    AlertRows.row("/usr/bin/c", "10.0.0.1", 1, null));
            List<AlertRecord> log = f.awaitFinished(3);
            Map<String, AlertRecord> byRule = new HashMap<>();
            log.forEach(a -> byRule.put(a.rule(), a));
            assertThat(byRule.get("fails").result()).isEqualTo("failed");
            assertThat(byRule.get("fails").detail()).contains("exit 3").contains("boom");
            assertThat(byRule.get("hangs").result()).isEqualTo("timeout");
            assertThat(byRule.get("hangs").detail()).contains("killed");
            assertThat(byRule.get("missing").result()).isEqualTo("failed");
            assertThat(byRule.get("missing").detail()).contains("cannot run /nonexistent/peekd-hook");
            long shell = Long.parseLong(Files.readString(pidFile).strip());
            assertThat(ProcessHandle.of(shell).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            assertThat(f.errors).anySatisfy(e -> assertThat(e).startsWith("alert \"fails\"").contains("exit 3"));
            assertThat(f.service.engine().status()).filteredOn(s -> s.name().equals("hangs"))
                    .singleElement().satisfies(s -> assertThat(s.failed()).isEqualTo(1));
        }
    }
}

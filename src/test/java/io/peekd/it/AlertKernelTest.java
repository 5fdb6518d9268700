package io.peekd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.testkit.Tgen;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * End to end: real traffic from a tgen copy, captured by the real daemon, fires an exec
 * rule whose program records what it was given; the alert is then in `peekd alerts log`.
 */
class AlertKernelTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void realTrafficFiresAnExecRule() throws Exception {
        Path cli = Tgen.copyAs("tg-alerted"), srv = Tgen.copyAs("tg-alert-sink");
        Path work = Files.createTempDirectory(Tgen.testDir(), "alert-");
        Path script = work.resolve("record.sh"), out = work.resolve("seen");
        Files.writeString(script, """
                #!/bin/sh
                out="$1"; shift
                printf '%s\\n' "$@" "$PEEKD_RULE" "$PEEKD_EXE" > "$out.tmp"
                mv "$out.tmp" "$out"
                """);
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        String rules = """
                [[alerts]]
                name = "tgen-upload"
                exe = "%s"
                proto = "tcp"
                raddr = "127.0.0.0/8"
                exec = ["%s", "%s", "{exe}", "{raddr}", "{rport}", "{name}"]
                """.formatted(cli, script, out);
        try (DaemonHarness peekd = DaemonHarness.withAlertRules(rules)) {
            int port;
            try (Tgen.Running server = Tgen.start(srv, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "200000")) {
                port = server.port();
                Tgen.run(cli, "tcp-send", "--to", "127.0.0.1:" + port, "--bytes", "200000");
                server.await();
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!Files.exists(out) && System.nanoTime() < deadline) Thread.sleep(200);
            assertThat(out).exists();
            List<String> seen = Files.readAllLines(out);
            assertThat(seen).containsExactly(cli.toString(), "127.0.0.1", Integer.toString(port), "tg-alerted",
                    "tgen-upload", cli.toString());

            JsonNode log = JSON.readTree(peekd.cli("alerts", "log", "--json", "--since", "1h"));
            while ((log.isEmpty() || log.get(0).path("result").asText().equals("pending")) && System.nanoTime() < deadline) {
                Thread.sleep(200);
                log = JSON.readTree(peekd.cli("alerts", "log", "--json", "--since", "1h"));
            }
            assertThat(log).isNotEmpty();
            JsonNode a = log.get(0);
            assertThat(a.path("rule").asText()).isEqualTo("tgen-upload");
            assertThat(a.path("result").asText()).isEqualTo("ok");
            assertThat(a.path("flow").path("exe").asText()).isEqualTo(cli.toString());
            assertThat(a.path("flow").path("rport").asInt()).isEqualTo(port);
            // The server's traffic matched no rule.
            for (JsonNode x : log) assertThat(x.path("exe").asText()).isEqualTo(cli.toString());
            assertThat(peekd.cli("alerts", "list")).contains("tgen-upload");
        }
    }
}

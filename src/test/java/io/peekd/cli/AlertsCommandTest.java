package io.peekd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.alert.AlertService;
import io.peekd.config.ConfigLoader;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.Store;
import io.peekd.testkit.TestConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** peekd alerts test / list / reload / log, through the real command line. */
class AlertsCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    Path config;
    Path rules;

    record Run(int rc, String out, String err) {
    }

    private Run peekd(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(rc, out.toString(), err.toString());
    }

    @BeforeEach
    void writeConfig() throws Exception {
        rules = dir.resolve("alerts.toml");
        config = Files.writeString(dir.resolve("config.toml"), TestConfig.paths(dir) + """
                [alerts]
                file = "%s"
                """.formatted(rules));
    }

    @Test
    void testChecksAFileWithoutADaemon() throws Exception {
        Files.writeString(rules, """
                [[alerts]]
                name = "curl-outbound"
                exe = "/usr/bin/curl"
                rport = 443
                exec = "logger 'peekd: {exe} → {raddr}:{rport} ({domain})'"
                """);
        Run ok = peekd("alerts", "test", rules.toString());
        assertThat(ok.rc()).isZero();
        assertThat(ok.out()).contains("1 rule, no problems").contains("curl-outbound").contains("exec");
        assertThat(peekd("alerts", "test", "--config", config.toString()).rc()).isZero();
        // --config given to the group reaches the subcommand: the rules file is the config's.
        Run viaGroup = peekd("alerts", "--config", config.toString(), "test");
        assertThat(viaGroup.rc()).isZero();
        assertThat(viaGroup.out()).contains(rules.toString()).contains("curl-outbound");

        Path bad = Files.writeString(dir.resolve("bad.toml"), "[[alerts]]\nname = \"b\"\nrport = \"http\"\n");
        Run no = peekd("alerts", "test", bad.toString());
        assertThat(no.rc()).isEqualTo(2);
        assertThat(no.err()).contains(bad + ":3: rule \"b\" (alerts[0]): rport:").contains("1 problem");
        assertThat(peekd("alerts", "test", dir.resolve("nope.toml").toString()).err()).contains("no such file");
    }

    @Test
    void everySubcommandExplainsItself() {
        for (String sub : List.of("test", "list", "reload", "log")) {
            Run r = peekd("alerts", sub, "--help");
            assertThat(r.rc()).isZero();
            assertThat(r.out()).contains("Usage: peekd alerts " + sub);
        }
        assertThat(peekd("alerts", "--help").out()).contains("reload").contains("log");
    }

    @Test
    void listReloadAndLogAgainstALiveService() throws Exception {
        Files.writeString(rules, "[[alerts]]\nname = \"first\"\nexe = \"/usr/bin/a\"\n");
        var c = ConfigLoader.load(config);
        Run notRunning = peekd("alerts", "list", "--config", config.toString());
        assertThat(notRunning.rc()).isEqualTo(3);
        assertThat(notRunning.out()).contains("not running").contains("first");

        try (Store store = Store.open(c.paths().db());
             AlertService s = AlertService.start(AlertService.options(c), store, m -> { })) {
            Identity id = new Identity("/usr/bin/a", "a", "a", null, 7, null, null, null, null, 1, 0, "root", null, null);
            FlowRow row = new FlowRow(Instant.now(), id, "tcp", 4, "10.0.0.1", 5000, "192.0.2.7", 443, "ex.org", "dns",
                    "high", 10, 20, 1);
            s.onBatch(Instant.now(), List.of(row, row));
            s.writeStatusForTest();

            Run list = peekd("alerts", "list", "--config", config.toString());
            assertThat(list.rc()).isZero();
            assertThat(list.out()).contains("first").containsPattern("first\\s+1\\s+flow fields\\s+log\\s+1\\s+1");

            // A broken file is not sent; the daemon keeps its rules.
            Files.writeString(rules, "[[alerts]]\nname = \"second\"\nexe = 7\n");
            Run refused = peekd("alerts", "reload", "--config", config.toString());
            assertThat(refused.rc()).isEqualTo(2);
            assertThat(refused.err()).contains(":3: rule \"second\" (alerts[0]): exe:").contains("not reloading");

            Files.writeString(rules, "[[alerts]]\nname = \"second\"\nexe = \"/usr/bin/b\"\n[[alerts]]\nname = \"third\"\nrport = 1\n");
            Run reload = peekd("alerts", "reload", "--config", config.toString());
            assertThat(reload.rc()).as(reload.err()).isZero();
            assertThat(reload.out()).contains("reloaded: 2 rules active");
            assertThat(s.lastReload().trigger()).isIn("SIGHUP", "file change");

            store.writer().flush(Duration.ofSeconds(10));
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            JsonNode log = JSON.readTree(peekd("alerts", "log", "--json", "--config", config.toString()).out());
            while (!(log.size() == 1 && !log.get(0).path("result").asText().equals("pending")) && System.nanoTime() < deadline) {
                Thread.sleep(100);
                log = JSON.readTree(peekd("alerts", "log", "--json", "--config", config.toString()).out());
            }
            assertThat(log).hasSize(1);
            JsonNode a = log.get(0);
            assertThat(a.path("rule").asText()).isEqualTo("first");
            assertThat(a.path("result").asText()).isEqualTo("ok");
            assertThat(a.path("suppressed").asLong()).isZero();
            assertThat(a.path("flow").path("domain").asText()).isEqualTo("ex.org");
            assertThat(a.path("flow").path("rport").asInt()).isEqualTo(443);
            Run table = peekd("alerts", "log", "--since", "1h", "--config", config.toString());
            assertThat(table.out()).contains("first").contains("192.0.2.7:443").contains("1 alerts");
            assertThat(peekd("alerts", "log", "--since", "1h", "--rule", "other", "--json", "--config", config.toString())
                    .out().strip()).isEqualTo("[]");
        }
        // The daemon is gone: its alerts.json with it.
        assertThat(dir.resolve("run/alerts.json")).doesNotExist();
        assertThat(peekd("alerts", "reload", "--config", config.toString()).rc()).isEqualTo(3);
    }
}

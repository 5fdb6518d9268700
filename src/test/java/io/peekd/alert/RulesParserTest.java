package io.peekd.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RulesParserTest {
    private static final Path FILE = Path.of("/etc/peekd/alerts.toml");

    @TempDir
    Path dir;

    @Test
    void theSeedExampleLoads() throws Exception {
        RuleSet set = RulesParser.parse("""
                [[alerts]]
                name = "curl-outbound"
                exe = "/usr/bin/curl"
                rport = 443
                action = "exec"
                exec = "logger 'peekd: {exe} → {raddr}:{rport} ({domain})'"

                [[alerts]]
                name = "binary-tampered"
                on_new_hash = true   # fires only on NEW_HASH (known exe, new sha256)
                action = "exec"
                exec = "logger 'peekd: binary tampered: {exe} sha256={sha256}'"
                """, FILE);
        assertThat(set.rules()).extracting(Rule::name).containsExactly("curl-outbound", "binary-tampered");
        Rule curl = set.rules().getFirst();
        assertThat(curl.line()).isEqualTo(1);
        assertThat(curl.criteria().exe().exact()).containsExactly("/usr/bin/curl");
        assertThat(curl.criteria().rport().contains(443)).isTrue();
        assertThat(curl.actions()).singleElement().isInstanceOf(Rule.Action.Exec.class);
        assertThat(curl.dedup().toSeconds()).isEqualTo(60);
        assertThat(curl.maxPerHour()).isEqualTo(60);
        assertThat(set.rules().get(1).events().newHash()).isTrue();
    }

    @Test
    void everyFieldReadsItsForms() throws Exception {
        Rule r = RulesParser.parse("""
                [[alerts]]
                name = "all"
                description = "every field"
                exe = ["/usr/bin/*", "/opt/**/bin/tool"]
                process_name = "curl"
                sha256 = "AB%s"
                parent = ["/usr/bin/bash", "sshd"]
                user = ["alice", "bob"]
                uid = [0, "1000-1999"]
                container = "web-*"
                domain = ["Example.COM.", "bücher.example"]
                raddr = ["10.0.0.0/8", "2001:db8::/32"]
                rport = [443, "8000-8100"]
                lport = "1024-65535"
                proto = ["TCP", "udp"]
                country = ["de", "FR"]
                asn = [13335, "AS15169"]
                min_bytes_sent = 1000
                window = "10m"
                action = ["log", "notify", "webhook"]
                webhook = "https://hooks.example/peekd"
                webhook_headers = { Authorization = "Bearer abc" }
                timeout_seconds = 5
                retries = 0
                dedup_seconds = 0
                max_per_hour = 0
                """.formatted("ab".repeat(31)), FILE).rules().getFirst();
        Criteria c = r.criteria();
        assertThat(c.exe().matches("/usr/bin/curl")).isTrue();
        assertThat(c.exe().matches("/usr/bin/x/curl")).isFalse();
        assertThat(c.exe().matches("/opt/a/b/bin/tool")).isTrue();
        assertThat(c.sha256()).containsExactly("ab".repeat(32));
        assertThat(c.parentExe().matches("/usr/bin/bash")).isTrue();
        assertThat(c.parentName().matches("sshd")).isTrue();
        assertThat(c.uids().contains(1500)).isTrue();
        assertThat(c.uids().contains(2000)).isFalse();
        assertThat(c.domains().suffixes()).containsExactly("example.com", "xn--bcher-kva.example");
        assertThat(c.proto()).containsExactlyInAnyOrder("tcp", "udp");
        assertThat(c.country()).containsExactlyInAnyOrder("DE", "FR");
        assertThat(c.asn()).containsExactlyInAnyOrder(13335L, 15169L);
        assertThat(r.threshold().window().toMinutes()).isEqualTo(10);
        assertThat(r.actions()).extracting(Rule.Action::kind).containsExactly("log", "notify", "webhook");
        assertThat(((Rule.Action.Webhook) r.actions().get(2)).headers()).containsEntry("Authorization", "Bearer abc");
        assertThat(r.dedup().isZero()).isTrue();
    }

    @Test
    void theActionFollowsFromTheKeysWhenNotGiven() throws Exception {
        RuleSet set = RulesParser.parse("""
                [[alerts]]
                name = "a"
                exec = ["/bin/true"]
                [[alerts]]
                name = "b"
                webhook = "http://127.0.0.1:9/x"
                [[alerts]]
                name = "c"
                rport = 22
                """, FILE);
        assertThat(set.rules()).extracting(Rule::actionKinds).containsExactly("exec", "webhook", "log");
    }

    @Test
    void everyProblemIsReportedWithRuleKeyAndLine() {
        AlertsFileException e = catchThrowableOfType(AlertsFileException.class, () -> RulesParser.parse("""
                [[alerts]]
                name = "ok-rule"
                exe = "/usr/bin/curl"

                [[alerts]]
                name = "bad-ports"
                rport = 70000
                lport = "9-2"

                [[alerts]]
                name = "bad-exec"
                exec = "sh -c 'echo {domain}'"

                [[alerts]]
                exe = "relative/path"

                [[alerts]]
                name = "ok-rule"
                prot = "tcp"
                on_error = true
                action = "page"
                """, FILE));
        List<String> lines = e.problems().stream().map(AlertsFileException.Problem::toString).toList();
        assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("/etc/peekd/alerts.toml:7: rule \"bad-ports\" (alerts[1]): rport: expected a port 0..65535"))
                .anySatisfy(l -> assertThat(l).startsWith("/etc/peekd/alerts.toml:8: rule \"bad-ports\" (alerts[1]): lport:"))
                .anySatisfy(l -> assertThat(l).startsWith("/etc/peekd/alerts.toml:12: rule \"bad-exec\" (alerts[2]): exec:")
                        .contains("$PEEKD_DOMAIN"))
                .anySatisfy(l -> assertThat(l).contains("alerts[3]: every rule needs a name"))
                .anySatisfy(l -> assertThat(l).startsWith("/etc/peekd/alerts.toml:15: alerts[3]: exe:").contains("absolute path"))
                .anySatisfy(l -> assertThat(l).startsWith("/etc/peekd/alerts.toml:19: rule \"ok-rule\" (alerts[4]): prot: unknown key; did you mean proto?"))
                .anySatisfy(l -> assertThat(l).startsWith("/etc/peekd/alerts.toml:21: rule \"ok-rule\" (alerts[4]): action: \"page\" is not an action"));
        assertThat(e.problems()).anySatisfy(p -> {
            assertThat(p.rule()).isEqualTo("rule \"bad-ports\" (alerts[1])");
            assertThat(p.key()).isEqualTo("rport");
            assertThat(p.line()).isEqualTo(7);
        });
    }

    @Test
    void duplicateNamesAndImpossibleCombinationsAreRefused() {
        assertThatThrownBy(() -> RulesParser.parse("""
                [[alerts]]
                name = "x"
                [[alerts]]
                name = "x"
                """, FILE)).hasMessageContaining(":4: rule \"x\" (alerts[1]): name: another rule at line 1");
        assertThatThrownBy(() -> RulesParser.parse("""
                [[alerts]]
                name = "x"
                on_new_exe = true
                on_new_hash = true
                """, FILE)).hasMessageContaining("on_new_hash: a row is NEW_EXE");
        assertThatThrownBy(() -> RulesParser.parse("""
                [[alerts]]
                name = "x"
                on_error = true
                exe = "/usr/bin/curl"
                """, FILE)).hasMessageContaining("on_error: an on_error rule fires on daemon errors");
        assertThatThrownBy(() -> RulesParser.parse("""
                [[alerts]]
                name = "x"
                window = "5m"
                """, FILE)).hasMessageContaining("window: a window only applies");
        assertThatThrownBy(() -> RulesParser.parse("""
                [[alerts]]
                name = "x"
                webhook = "file:///etc/passwd"
                """, FILE)).hasMessageContaining("not an http:// or https:// URL");
        assertThatThrownBy(() -> RulesParser.parse("""
                [[alerts]]
                name = "x"
                webhook = "http://h/"
                webhook_headers = { Host = "evil" }
                """, FILE)).hasMessageContaining("\"Host\" is not a header peekd can set");
    }

    @Test
    void syntaxErrorsAndStrayKeysHaveLines() {
        assertThatThrownBy(() -> RulesParser.parse("[[alerts]]\nname = \"x\"\nrport = = 443\nexe = \"/x\"\n", FILE))
                .isInstanceOf(AlertsFileException.class).hasMessageStartingWith("/etc/peekd/alerts.toml:3: invalid TOML");
        assertThatThrownBy(() -> RulesParser.parse("name = \"x\"\n", FILE)).hasMessageContaining(":1: name: unknown key");
        assertThatThrownBy(() -> RulesParser.parse("alerts = 3\n", FILE)).hasMessageContaining("expected [[alerts]] tables");
    }

    @Test
    void anEmptyFileHasNoRulesAndABinaryOneIsRefused() throws Exception {
        assertThat(RulesParser.parse("# nothing yet\n", FILE).rules()).isEmpty();
        Path bin = Files.write(dir.resolve("alerts.toml"), new byte[] {(byte) 0xff, (byte) 0xfe, 0, 1});
        assertThatThrownBy(() -> RulesParser.load(bin)).hasMessageContaining("not UTF-8");
    }
}

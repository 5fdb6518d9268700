package io.peekd.alert;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.AlertRecord;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Which rows fire which rules: every field, the events, thresholds, and the index. */
class MatchingTest {
    @TempDir
    Path dir;

    private static Map<String, Long> fired(AlertFixture f) {
        return f.service.engine().status().stream()
                .collect(Collectors.toMap(AlertEngine.RuleStatus::name, AlertEngine.RuleStatus::fired));
    }

    private static Identity ident(String exe, String name, String sha, String pexe, String pname, int uid, String user,
                                  String container) {
        return new Identity(exe, name, name, sha, 0, pexe, pname, pname, null, 1, uid, user, null, container);
    }

    @Test
    void everyGivenFieldMustMatch() throws Exception {
        try (AlertFixture f = AlertFixture.start(dir, """
                [[alerts]]
                name = "exact-exe-port"
                exe = "/usr/bin/curl"
                rport = [443, "8000-8100"]
                dedup_seconds = 0
                [[alerts]]
                name = "glob-exe"
                exe = "/opt/**/bin/*"
                dedup_seconds = 0
                [[alerts]]
                name = "by-name-and-user"
                process_name = "ssh"
                user = "root"
                dedup_seconds = 0
                [[alerts]]
                name = "sha"
                sha256 = "%s"
                dedup_seconds = 0
                [[alerts]]
                name = "parent-and-uid"
                parent = ["sshd", "/usr/sbin/cron"]
                uid = "1000-1999"
                dedup_seconds = 0
                [[alerts]]
                name = "container"
                container = "web-*"
                proto = "udp"
                dedup_seconds = 0
                [[alerts]]
                name = "domain-suffix"
                domain = "example.com"
                dedup_seconds = 0
                [[alerts]]
                name = "network-lport"
                raddr = ["10.0.0.0/8", "fd00::/8"]
                lport = "1024-65535"
                dedup_seconds = 0
                """.formatted("ee".repeat(32)))) {
            Identity curl = ident("/usr/bin/curl", "curl", "aa".repeat(32), "/usr/bin/bash", "bash", 1000, "alice", null);
            Identity opt = ident("/opt/app/v2/bin/tool", "tool", null, null, null, 0, "root", null);
            Identity ssh = ident("/usr/bin/ssh", "ssh", null, null, null, 0, "root", null);
            Identity sshBob = ident("/usr/bin/ssh", "ssh", null, null, null, 1001, "bob", null);
            Identity tampered = ident("/usr/bin/x", "x", "EE".repeat(32), null, null, 0, "root", null);
            Identity fromCron = ident("/usr/bin/y", "y", null, "/usr/sbin/cron", "cron", 1500, "carol", null);
            Identity fromSshd = ident("/usr/bin/y", "y", null, "/usr/sbin/sshd", "sshd", 1500, "carol", null);
            Identity inWeb = ident("/usr/bin/z", "z", null, null, null, 0, "root", "web-42");
            f.service.onBatch(AlertRows.T0, List.of(
                    AlertRows.row(curl, "tcp", "192.0.2.1", 443, null, 1, 1),        // exact-exe-port
                    AlertRows.row(curl, "tcp", "192.0.2.1", 8050, null, 1, 1),       // exact-exe-port (range)
                    AlertRows.row(curl, "tcp", "192.0.2.1", 80, null, 1, 1),         // none
                    AlertRows.row(opt, "tcp", "192.0.2.1", 80, null, 1, 1),          // glob-exe
                    AlertRows.row(ssh, "tcp", "192.0.2.1", 22, null, 1, 1),          // by-name-and-user
                    AlertRows.row(sshBob, "tcp", "192.0.2.1", 22, null, 1, 1),       // none (user)
                    AlertRows.row(tampered, "tcp", "192.0.2.1", 22, null, 1, 1),     // sha (case-insensitive)
                    AlertRows.row(fromCron, "tcp", "192.0.2.1", 22, null, 1, 1),     // parent-and-uid (path)
                    AlertRows.row(fromSshd, "tcp", "192.0.2.1", 22, null, 1, 1),     // parent-and-uid (name)
                    AlertRows.row(inWeb, "udp", "192.0.2.1", 53, null, 1, 1),        // container
                    AlertRows.row(inWeb, "tcp", "192.0.2.1", 53, null, 1, 1),        // none (proto)
                    AlertRows.row(ssh, "tcp", "192.0.2.1", 22, "api.Example.COM.", 1, 1), // domain-suffix (+ by-name)
                    AlertRows.row(inWeb, "tcp", "192.0.2.1", 1, "notexample.com", 1, 1), // none
                    AlertRows.row(inWeb, "tcp", "10.1.2.3", 1, null, 1, 1),          // network-lport
                    AlertRows.row(inWeb, "tcp", "fd00::1", 1, null, 1, 1),           // network-lport
                    AlertRows.row(inWeb, "tcp", "11.0.0.1", 1, null, 1, 1)));        // none
            assertThat(fired(f)).containsExactlyInAnyOrderEntriesOf(Map.of("exact-exe-port", 2L, "glob-exe", 1L,
                    "by-name-and-user", 2L, "sha", 1L, "parent-and-uid", 2L, "container", 1L, "domain-suffix", 1L,
                    "network-lport", 2L));
        }
    }

    @Test
    void newExeAndNewHashFollowTheRowFlags() throws Exception {
        // Flags arrive with the exe-identity work; here a row's flags come from its pid.
        try (AlertFixture f = AlertFixture.start(dir, """
                [[alerts]]
                name = "binary-tampered"
                on_new_hash = true
                [[alerts]]
                name = "first-sight"
                on_new_exe = true
                exe = "/usr/bin/*"
                """, false, false, r -> r.id().pid(), (u, n, x) -> { })) {
            FlowRow plain = AlertRows.row(ident("/usr/bin/a", "a", null, null, null, 0, "root", null), "tcp", "192.0.2.1", 1, null, 1, 1);
            FlowRow newExe = AlertRows.row(new Identity("/usr/bin/b", "b", null, null, ExeFlags.NEW_EXE, null, null, null, null, 1,
                    0, "root", null, null), "tcp", "192.0.2.1", 1, null, 1, 1);
            FlowRow newHash = AlertRows.row(new Identity("/usr/bin/c", "c", null, "ff".repeat(32), ExeFlags.NEW_HASH, null, null,
                    null, null, 1, 0, "root", null, null), "tcp", "192.0.2.1", 1, null, 1, 1);
            f.batch(plain, newExe, newHash);
            assertThat(fired(f)).containsEntry("binary-tampered", 1L).containsEntry("first-sight", 1L);
            List<AlertRecord> log = f.awaitFinished(2);
            assertThat(log).extracting(AlertRecord::event).containsExactlyInAnyOrder("new_exe", "new_hash");
            assertThat(log).filteredOn(a -> a.event().equals("new_hash")).singleElement()
                    .satisfies(a -> assertThat(a.exe()).isEqualTo("/usr/bin/c"));
        }
    }

    @Test
    void newDomainFiresOncePerExeAndDomain() throws Exception {
        try (AlertFixture f = AlertFixture.start(dir, """
                [[alerts]]
                name = "new-domain"
                on_new_domain = true
                dedup_seconds = 0
                """)) {
            f.batch(AlertRows.row("/usr/bin/a", "192.0.2.1", 443, "one.example"),
                    AlertRows.row("/usr/bin/a", "192.0.2.2", 443, "ONE.example."),
                    AlertRows.row("/usr/bin/b", "192.0.2.1", 443, "one.example"),
                    AlertRows.row("/usr/bin/a", "192.0.2.1", 443, null));
            f.batch(AlertRows.row("/usr/bin/a", "192.0.2.3", 443, "one.example"),
                    AlertRows.row("/usr/bin/a", "192.0.2.3", 443, "two.example"));
            assertThat(f.awaitFinished(3)).extracting(AlertRecord::domain)
                    .containsExactly("one.example", "one.example", "two.example");
        }
    }

    @Test
    void historyMakesOldPairsKnown() throws Exception {
        try (AlertFixture f = AlertFixture.start(dir, null)) {
            // Store history through the real writer, then start a second service that reads it.
            f.store.writer().submit(List.of(AlertRows.row("/usr/bin/a", "192.0.2.1", 443, "old.example")));
            f.store.writer().flush(java.time.Duration.ofSeconds(10));
            java.nio.file.Files.writeString(dir.resolve("alerts2.toml"), "[[alerts]]\nname = \"nd\"\non_new_domain = true\n");
            var opts = new AlertService.Options(dir.resolve("alerts2.toml"), null, AlertEngine.Settings.defaults(), false, false);
            try (AlertService s = AlertService.start(opts, f.store, m -> { })) {
                s.onBatch(AlertRows.T0, List.of(AlertRows.row("/usr/bin/a", "192.0.2.1", 443, "old.example"),
                        AlertRows.row("/usr/bin/a", "192.0.2.1", 443, "new.example")));
                assertThat(s.engine().status().getFirst().fired()).isEqualTo(1);
            }
        }
    }

    @Test
    void thresholdsSumAnExecutablesBytesOverTheWindow() throws Exception {
        try (AlertFixture f = AlertFixture.start(dir, """
                [[alerts]]
                name = "big-upload"
                min_bytes_sent = 1000
                [[alerts]]
                name = "slow-leak"
                exe = "/usr/bin/leak"
                min_bytes_sent = 1000
                window = "1h"
                """)) {
            Identity up = ident("/usr/bin/up", "up", null, null, null, 0, "root", null);
            Identity leak = ident("/usr/bin/leak", "leak", null, null, null, 0, "root", null);
            f.batch(AlertRows.row(up, "tcp", "192.0.2.1", 443, null, 600, 0),
                    AlertRows.row(up, "tcp", "192.0.2.2", 443, null, 600, 0),  // 1200 in this window: fires once
                    AlertRows.row(up, "tcp", "192.0.2.3", 443, null, 600, 0),
                    AlertRows.row(leak, "tcp", "192.0.2.1", 443, null, 400, 0));
            f.batch(AlertRows.row(leak, "tcp", "192.0.2.1", 443, null, 400, 0));
            assertThat(fired(f)).containsEntry("big-upload", 1L).containsEntry("slow-leak", 0L);
            f.batch(AlertRows.row(leak, "tcp", "192.0.2.1", 443, null, 400, 0)); // 1200 within the hour
            assertThat(fired(f)).containsEntry("slow-leak", 1L);
            List<AlertRecord> log = f.awaitFinished(2);
            assertThat(log).allSatisfy(a -> assertThat(a.event()).isEqualTo("threshold"));
        }
    }

    @Test
    void countryAndAsnUseTheAddressInfo() throws Exception {
        AddressInfo geo = new AddressInfo() {
            public String country(InetAddress a) {
                return a.getHostAddress().startsWith("192.0.2.") ? "de" : "US";
            }

            public Long asn(InetAddress a) {
                return a.getHostAddress().startsWith("192.0.2.") ? 64500L : null;
            }
        };
        java.nio.file.Files.writeString(dir.resolve("a.toml"), """
                [[alerts]]
                name = "germany"
                country = "DE"
                [[alerts]]
                name = "as"
                asn = "AS64500"
                """);
        try (var store = io.peekd.store.Store.open(dir.resolve("db/peekd.db"));
             AlertService s = AlertService.start(new AlertService.Options(dir.resolve("a.toml"), null,
                     AlertEngine.Settings.defaults(), false, false), AlertService.sink(store.writer()), m -> { }, null, geo,
                     AlertEngine.NO_FLAGS)) {
            s.onBatch(AlertRows.T0, List.of(AlertRows.row("/usr/bin/a", "192.0.2.9", 443, null),
                    AlertRows.row("/usr/bin/a", "198.51.100.1", 443, null)));
            assertThat(s.engine().status()).extracting(AlertEngine.RuleStatus::fired).containsExactly(1L, 1L);
        }
    }

    @Test
    void onErrorFiresOnDaemonErrorsButNotOnItsOwn() throws Exception {
        try (AlertFixture f = AlertFixture.start(dir, """
                [[alerts]]
                name = "errors"
                on_error = true
                """)) {
            f.service.onError("capture loss: 3 exec events dropped");
            f.service.onError(AlertEngine.ERROR_PREFIX + "\"x\": exec failed");
            f.service.onError("database writer is behind");
            // Errors are matched in order, so once the third is logged the second was seen (and skipped).
            List<AlertRecord> log = f.awaitLog(l -> l.stream().anyMatch(a -> a.message().startsWith("database")));
            assertThat(log).allSatisfy(a -> assertThat(a.event()).isEqualTo("error"))
                    .extracting(AlertRecord::message)
                    .containsExactly("capture loss: 3 exec events dropped", "database writer is behind");
        }
    }

    @Test
    void theIndexFindsEachRuleOnceWhateverItsField() {
        RuleSet set = new RuleSet(List.of(
                rule("by-exe", new Criteria(texts("/usr/bin/a"), null, null, null, null, null, null, null, null, null,
                        null, null, null, null, null)),
                rule("by-port", new Criteria(null, null, null, null, null, null, null, null, null, null,
                        new Criteria.IntRanges(List.of(new long[] {443, 443})), null, null, null, null)),
                rule("scan", Criteria.ANY)));
        FlowRow r = AlertRows.row("/usr/bin/a", "192.0.2.1", 443, null);
        List<String> seen = new java.util.ArrayList<>();
        set.candidates(r, x -> seen.add(x.name()));
        assertThat(seen).containsExactlyInAnyOrder("by-exe", "by-port", "scan");
        seen.clear();
        set.candidates(AlertRows.row("/usr/bin/b", "192.0.2.1", 80, null), x -> seen.add(x.name()));
        assertThat(seen).containsExactly("scan");
    }

    private static Criteria.Texts texts(String exact) {
        return new Criteria.Texts(java.util.Set.of(exact), List.of());
    }

    private static Rule rule(String name, Criteria c) {
        return new Rule(name, 1, null, true, c, Rule.Events.NONE, Rule.Threshold.NONE, List.of(new Rule.Action.Log()),
                java.time.Duration.ofSeconds(1), 0, java.time.Duration.ZERO, 0);
    }
}

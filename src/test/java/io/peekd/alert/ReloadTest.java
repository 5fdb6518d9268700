package io.peekd.alert;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.bpf.Libc;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reloads by call, by file change and by SIGHUP; a broken file leaves the old rules active. */
class ReloadTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RULE_A = """
            [[alerts]]
            name = "rule-a"
            exe = "/usr/bin/a"
            dedup_seconds = 0
            """;

    @TempDir
    Path dir;

    private static boolean await(BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) return false;
            Thread.sleep(50);
        }
        return true;
    }

    private static long firedOf(AlertFixture f, String rule) {
        return f.service.engine().status().stream().filter(s -> s.name().equals(rule)).mapToLong(AlertEngine.RuleStatus::fired)
                .findFirst().orElse(-1);
    }

    /** Editors replace the file; do the same, atomically, so a watcher never reads half of it. */
    private static void replace(Path file, String text) throws Exception {
        Path tmp = file.resolveSibling(file.getFileName() + ".new");
        Files.writeString(tmp, text);
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Test
    void aBrokenFileIsRefusedWithRuleKeyAndLineAndTheOldRulesStay() throws Exception {
        try (AlertFixture f = AlertFixture.start(dir, RULE_A)) {
            assertThat(f.service.lastReload().ok()).isTrue();
            Files.writeString(f.rules, RULE_A + """

                    [[alerts]]
                    name = "rule-b"
                    rport = 70000
                    """);
            AlertService.Reload r = f.service.reload("test");
            assertThat(r.ok()).isFalse();
            assertThat(r.rules()).isEqualTo(1);
            assertThat(r.problems()).singleElement().satisfies(p -> assertThat(p)
                    .startsWith(f.rules + ":8: rule \"rule-b\" (alerts[1]): rport: expected a port 0..65535"));
            assertThat(f.errors).anySatisfy(e -> assertThat(e).contains("was not loaded (test)")
                    .contains("the 1 rules loaded before stay active").contains("rule \"rule-b\""));
            // The old rule still fires.
            f.batch(AlertRows.row("/usr/bin/a", "192.0.2.1", 1, null));
            assertThat(firedOf(f, "rule-a")).isEqualTo(1);
            assertThat(firedOf(f, "rule-b")).isEqualTo(-1);
            // alerts.json tells `peekd alerts list` that the last reload was refused.
            JsonNode st = JSON.readTree(dir.resolve("run/alerts.json").toFile());
            assertThat(st.path("last_reload").path("ok").asBoolean()).isFalse();
            assertThat(st.path("rules")).hasSize(1);

            Files.writeString(f.rules, RULE_A.replace("rule-a", "rule-c"));
            assertThat(f.service.reload("test").ok()).isTrue();
            f.batch(AlertRows.row("/usr/bin/a", "192.0.2.1", 1, null));
            assertThat(firedOf(f, "rule-c")).isEqualTo(1);
            assertThat(firedOf(f, "rule-a")).isEqualTo(-1);
        }
    }

    @Test
    void aChangedFileIsReloadedByTheWatcher() throws Exception {
        try (AlertFixture f = AlertFixture.start(dir, RULE_A, true, false, AlertEngine.NO_FLAGS, (u, n, r) -> { })) {
            replace(f.rules, RULE_A.replace("rule-a", "rule-w"));
            assertThat(await(() -> f.service.lastReload().trigger().equals("file change"))).isTrue();
            assertThat(f.service.lastReload().ok()).isTrue();
            assertThat(f.service.engine().status()).extracting(AlertEngine.RuleStatus::name).containsExactly("rule-w");
            // A broken save is refused by the watcher too, and the rules stay.
            replace(f.rules, "[[alerts]]\nname = \"oops\"\nexe = 5\n");
            assertThat(await(() -> !f.service.lastReload().ok())).isTrue();
            assertThat(f.service.lastReload().problems().getFirst()).contains(":3: rule \"oops\" (alerts[0]): exe:");
            assertThat(f.service.engine().status()).extracting(AlertEngine.RuleStatus::name).containsExactly("rule-w");
        }
    }

    @Test
    void sighupReloads() throws Exception {
        try (AlertFixture f = AlertFixture.start(dir, RULE_A, false, true, AlertEngine.NO_FLAGS, (u, n, r) -> { })) {
            JsonNode st = JSON.readTree(dir.resolve("run/alerts.json").toFile());
            // Only with our handler in place: without it the JVM would take SIGHUP as a shutdown.
            assertThat(st.path("sighup").asBoolean()).isTrue();
            Files.writeString(f.rules, RULE_A.replace("rule-a", "rule-h"));
            Libc.kill(ProcessHandle.current().pid(), Libc.SIGHUP);
            assertThat(await(() -> f.service.lastReload().trigger().equals("SIGHUP"))).isTrue();
            assertThat(f.service.engine().status()).extracting(AlertEngine.RuleStatus::name).containsExactly("rule-h");
        }
    }

    @Test
    void aMissingFileMeansNoRules() throws Exception {
        try (AlertFixture f = AlertFixture.start(dir, null)) {
            assertThat(f.service.lastReload().ok()).isTrue();
            assertThat(f.service.engine().status()).isEmpty();
            assertThat(f.errors).isEmpty();
        }
    }
}

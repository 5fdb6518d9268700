package io.peekd.alert;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.flow.FlowRow;
import io.peekd.store.AlertRecord;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** dedup_seconds and max_per_hour under a burst of 1,000 matching flows, with a real exec action. */
class NoiseControlTest {
    @TempDir
    Path dir;

    private static List<FlowRow> burst(String exe, int n, boolean distinct) {
        List<FlowRow> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            String raddr = distinct ? "10.1." + (i / 250) + "." + (i % 250 + 1) : "10.1.0.1";
            rows.add(AlertRows.row(exe, raddr, 443, null));
        }
        return rows;
    }

    private static long lines(Path f) throws Exception {
        return Files.exists(f) ? Files.readAllLines(f).size() : 0;
    }

    @Test
    void aBurstOfDistinctFlowsIsCappedByMaxPerHour() throws Exception {
        Path hits = dir.resolve("hits");
        try (AlertFixture f = AlertFixture.start(dir, """
                [[alerts]]
                name = "capped"
                exe = "/usr/bin/burst"
                max_per_hour = 5
                exec = ["/bin/sh", "-c", "echo \\"$PEEKD_RADDR\\" >> %s"]
                """.formatted(hits))) {
            f.service.onBatch(AlertRows.T0, burst("/usr/bin/burst", 1_000, true));
            List<AlertRecord> log = f.awaitFinished(5);
            assertThat(log).hasSize(5).allSatisfy(a -> assertThat(a.result()).isEqualTo("ok"));
            assertThat(lines(hits)).isEqualTo(5);
            assertThat(f.service.engine().status()).singleElement().satisfies(s -> {
                assertThat(s.fired()).isEqualTo(5);
                assertThat(s.suppressedRate()).isEqualTo(995);
                assertThat(s.suppressedDedup()).isZero();
            });
            // A second burst in the same hour fires nothing more: the 5 flows that fired are
            // duplicates (dedup_seconds defaults to 60), the other 995 are over the rate.
            f.service.onBatch(AlertRows.T0, burst("/usr/bin/burst", 1_000, true));
            var st = f.service.engine().status().getFirst();
            assertThat(st.suppressedDedup()).isEqualTo(5);
            assertThat(st.suppressedRate()).isEqualTo(1_990);
            assertThat(f.log()).hasSize(5);
        }
    }

    @Test
    void repeatsOfOneFlowAreDeduplicatedAndCountedOnTheNextAlert() throws Exception {
        Path hits = dir.resolve("hits");
        try (AlertFixture f = AlertFixture.start(dir, """
                [[alerts]]
                name = "dedup"
                exe = "/usr/bin/burst"
                dedup_seconds = 3600
                max_per_hour = 0
                exec = ["/bin/sh", "-c", "echo \\"$PEEKD_SUPPRESSED\\" >> %s"]
                """.formatted(hits))) {
            f.service.onBatch(AlertRows.T0, burst("/usr/bin/burst", 1_000, false));
            assertThat(f.awaitFinished(1)).hasSize(1);
            var st = f.service.engine().status().getFirst();
            assertThat(st.fired()).isEqualTo(1);
            assertThat(st.suppressedDedup()).isEqualTo(999);
            // Another flow of the same rule fires, and reports what was suppressed before it.
            f.batch(AlertRows.row("/usr/bin/burst", "10.2.0.1", 443, null));
            List<AlertRecord> log = f.awaitFinished(2);
            assertThat(log).extracting(AlertRecord::suppressed).containsExactly(0L, 999L);
            assertThat(Files.readAllLines(hits)).containsExactly("0", "999");
            assertThat(f.service.engine().status().getFirst().fired()).isEqualTo(2);
        }
    }

    @Test
    void dedupExpiresAndRateLimitSlidesWithTime() {
        Rule rule = new Rule("r", 1, null, true, Criteria.ANY, Rule.Events.NONE, Rule.Threshold.NONE, List.of(),
                java.time.Duration.ofSeconds(10), 0, java.time.Duration.ofSeconds(60), 2);
        RuleState s = new RuleState();
        long t = 1_000_000;
        assertThat(s.admit(rule, "a", t)).isEqualTo(RuleState.Verdict.FIRE);
        assertThat(s.admit(rule, "a", t + 59_999)).isEqualTo(RuleState.Verdict.DEDUP);
        assertThat(s.admit(rule, "b", t + 1)).isEqualTo(RuleState.Verdict.FIRE);
        assertThat(s.admit(rule, "c", t + 2)).isEqualTo(RuleState.Verdict.RATE);
        assertThat(s.admit(rule, "a", t + 60_000)).isEqualTo(RuleState.Verdict.RATE); // dedup over, hour still full
        assertThat(s.admit(rule, "a", t + 3_600_000)).isEqualTo(RuleState.Verdict.FIRE);
        assertThat(s.fired).isEqualTo(3);
        assertThat(s.suppressedDedup).isEqualTo(1);
        assertThat(s.suppressedRate).isEqualTo(2);
    }
}

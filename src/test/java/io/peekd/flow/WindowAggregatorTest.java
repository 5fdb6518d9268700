package io.peekd.flow;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.capture.FlowDelta;
import io.peekd.capture.FlowKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class WindowAggregatorTest {
    private static final byte[] Z = new byte[16];
    private static final FlowKey A = new FlowKey(1, 0, 10, 1, 1, FlowKey.AF_INET, 6, 1, 1000, 80, Z, Z);
    private static final FlowKey B = new FlowKey(2, 0, 20, 1, 1, FlowKey.AF_INET, 17, 2, 1001, 53, Z, Z);

    @Test
    void deltasOfOneWindowMergeAndCloseAtTheBoundary() {
        WindowAggregator w = new WindowAggregator(Duration.ofSeconds(5));
        Instant t0 = Instant.parse("2026-11-22T10:00:01Z");
        assertThat(w.add(t0, List.of(new FlowDelta(A, 100, 1, 1), new FlowDelta(B, 7, 0, 1)))).isEmpty();
        assertThat(w.add(t0.plusSeconds(3), List.of(new FlowDelta(A, 50, 2, 0)))).isEmpty();
        List<WindowAggregator.Window> closed = w.add(t0.plusSeconds(4), List.of(new FlowDelta(A, 1, 0, 0)));
        assertThat(closed).hasSize(1);
        WindowAggregator.Window win = closed.getFirst();
        assertThat(win.start()).isEqualTo(Instant.parse("2026-11-22T10:00:00Z"));
        assertThat(win.flows().get(A).sent()).isEqualTo(150);
        assertThat(win.flows().get(A).recv()).isEqualTo(3);
        assertThat(win.flows().get(A).conns()).isEqualTo(1);
        assertThat(win.flows().get(B).sent()).isEqualTo(7);
        // The delta that opened the new window belongs to it.
        List<WindowAggregator.Window> last = w.flush();
        assertThat(last.getFirst().start()).isEqualTo(Instant.parse("2026-11-22T10:00:05Z"));
        assertThat(last.getFirst().flows().get(A).sent()).isEqualTo(1);
        assertThat(w.flush()).isEmpty();
    }

    @Test
    void snapshotIsACopy() {
        WindowAggregator w = new WindowAggregator(Duration.ofSeconds(10));
        Instant t = Instant.parse("2026-11-22T10:00:00Z");
        w.add(t, List.of(new FlowDelta(A, 10, 0, 0)));
        WindowAggregator.Window snap = w.snapshot();
        w.add(t.plusSeconds(1), List.of(new FlowDelta(A, 10, 0, 0)));
        assertThat(snap.flows().get(A).sent()).isEqualTo(10);
        assertThat(w.flush().getFirst().flows().get(A).sent()).isEqualTo(20);
    }

    @Test
    void emptyWindowsProduceNothing() {
        WindowAggregator w = new WindowAggregator(Duration.ofSeconds(1));
        Instant t = Instant.parse("2026-11-22T10:00:00Z");
        assertThat(w.add(t, List.of())).isEmpty();
        assertThat(w.add(t.plusSeconds(5), List.of())).isEmpty();
    }
}

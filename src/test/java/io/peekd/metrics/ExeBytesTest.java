package io.peekd.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class ExeBytesTest {
    private static FlowRow row(String exe, long sent, long recv) {
        Identity id = exe == null ? null
                : new Identity(exe, "n", null, null, 1, null, null, null, null, 0, 0, "root", null, null);
        return new FlowRow(Instant.EPOCH, id, "tcp", 4, "127.0.0.1", 1, "127.0.0.1", 2, null, null, null, sent, recv, 1);
    }

    private static Map<String, ExeBytes.Counter> byExe(ExeBytes b) {
        return b.snapshot().stream().collect(Collectors.toMap(ExeBytes.Counter::exe, Function.identity()));
    }

    @Test
    void sumsPerExecutableAndKeepsUnknownApart() {
        ExeBytes b = new ExeBytes(10);
        b.add(List.of(row("/usr/bin/a", 10, 1), row("/usr/bin/b", 5, 5), row("/usr/bin/a", 7, 0), row(null, 3, 3)));
        Map<String, ExeBytes.Counter> m = byExe(b);
        assertThat(m.get("/usr/bin/a").sent()).isEqualTo(17);
        assertThat(m.get("/usr/bin/a").conns()).isEqualTo(2);
        assertThat(m.get("/usr/bin/b").recv()).isEqualTo(5);
        assertThat(m.get(ExeBytes.UNKNOWN).sent()).isEqualTo(3);
        assertThat(m.get(ExeBytes.OTHER).sent()).isZero();
        assertThat(b.snapshot().getLast().exe()).isEqualTo(ExeBytes.OTHER);
        assertThat(b.snapshot().getFirst().exe()).isEqualTo("/usr/bin/a");
    }

    @Test
    void cardinalityIsBoundedAndNoCounterEverShrinks() {
        ExeBytes b = new ExeBytes(3);
        Map<String, Long> last = Map.of();
        long total = 0;
        for (int round = 0; round < 20; round++) {
            List<FlowRow> rows = new ArrayList<>();
            for (int e = 0; e < 40; e++) rows.add(row("/opt/exe" + e, e * round + 1, round));
            total += rows.stream().mapToLong(r -> r.sent()).sum();
            b.add(rows);
            List<ExeBytes.Counter> snap = b.snapshot();
            assertThat(snap).hasSize(4);
            Map<String, Long> now = snap.stream().collect(Collectors.toMap(ExeBytes.Counter::exe, ExeBytes.Counter::sent));
            for (var e : last.entrySet()) assertThat(now.get(e.getKey())).as(e.getKey()).isGreaterThanOrEqualTo(e.getValue());
            assertThat(now.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(total);
            last = now;
        }
    }

    @Test
    void anExecutableNamedOtherCannotTakeTheOtherSeries() {
        ExeBytes b = new ExeBytes(5);
        b.add(List.of(row("other", 4, 0)));
        assertThat(b.snapshot()).extracting(ExeBytes.Counter::exe).containsExactly(ExeBytes.OTHER);
        assertThat(b.snapshot().getFirst().sent()).isEqualTo(4);
    }
}

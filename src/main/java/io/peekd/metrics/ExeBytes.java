package io.peekd.metrics;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Subscriber;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Bytes per executable, from the stored batches, for the Prometheus endpoint.
 *
 * <p>Cardinality is bounded: at most {@code slots} executables get a series of
 * their own, the rest add up in {@code exe="other"}. An executable keeps its
 * series once it has one, and bytes are never moved between series, so every
 * counter only grows (moving bytes out of {@code other} would look like a
 * counter reset to {@code rate()}). Slots go to the first executables that move
 * traffic after start; a long-running host with more distinct executables than
 * slots sees the late ones in {@code other}, and {@code peekd query} has the detail.
 */
public final class ExeBytes implements Subscriber {
    /** The series label used for everything without a slot. */
    public static final String OTHER = "other";
    /** The label of rows whose executable could not be learned. */
    public static final String UNKNOWN = "unknown";

    /** Counters of one series. */
    public record Counter(String exe, long sent, long recv, long conns) {
    }

    private final int slots;
    private final Map<String, long[]> series = new HashMap<>();
    private final long[] other = new long[3];

    public ExeBytes(int slots) {
        if (slots < 1) throw new IllegalArgumentException("slots must be positive");
        this.slots = slots;
    }

    @Override
    public String name() {
        return "metrics";
    }

    @Override
    public void onBatch(Instant window, List<FlowRow> rows) {
        add(rows);
    }

    /** Adds the rows of one batch. */
    public synchronized void add(List<FlowRow> rows) {
        for (FlowRow r : rows) {
            String exe = r.id() == null || r.id().exe() == null ? UNKNOWN : r.id().exe();
            long[] c = series.get(exe);
            if (c == null && series.size() < slots && !exe.equals(OTHER)) series.put(exe, c = new long[3]);
            if (c == null) c = other;
            c[0] += r.sent();
            c[1] += r.recv();
            c[2] += r.conns();
        }
    }

    /** Every series, the busiest first, with {@code other} last (present even when zero). */
    public synchronized List<Counter> snapshot() {
        List<Counter> out = new ArrayList<>(series.size() + 1);
        series.forEach((exe, c) -> out.add(new Counter(exe, c[0], c[1], c[2])));
        out.sort(Comparator.comparingLong((Counter c) -> c.sent() + c.recv()).reversed().thenComparing(Counter::exe));
        out.add(new Counter(OTHER, other[0], other[1], other[2]));
        return out;
    }
}

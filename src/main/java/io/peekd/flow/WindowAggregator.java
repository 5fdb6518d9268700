package io.peekd.flow;

import io.peekd.capture.FlowDelta;
import io.peekd.capture.FlowKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Sums drained deltas into fixed wall-clock windows of write_limit_seconds.
 * Only the drain thread calls add/roll; {@link #snapshot} may be called from
 * elsewhere and sees a consistent copy.
 */
public final class WindowAggregator {
    private final long windowSeconds;
    private Instant start;
    private Map<FlowKey, Counts> current = new LinkedHashMap<>();

    /** Mutable running sums of one flow in the open window. */
    public static final class Counts {
        long sent, recv, conns;

        public long sent() {
            return sent;
        }

        public long recv() {
            return recv;
        }

        public long conns() {
            return conns;
        }
    }

    /** A closed window, ready to be stored. */
    public record Window(Instant start, Map<FlowKey, Counts> flows) {
    }

    public WindowAggregator(Duration window) {
        this.windowSeconds = Math.max(1, window.toSeconds());
    }

    Instant windowStart(Instant now) {
        long s = now.getEpochSecond();
        return Instant.ofEpochSecond(s - Math.floorMod(s, windowSeconds));
    }

    /** Adds deltas observed at {@code now}; returns the previous window if {@code now} opened a new one. */
    public synchronized List<Window> add(Instant now, List<FlowDelta> deltas) {
        List<Window> closed = roll(now);
        for (FlowDelta d : deltas) {
            Counts c = current.computeIfAbsent(d.key(), k -> new Counts());
            c.sent += d.sent();
            c.recv += d.recv();
            c.conns += d.conns();
        }
        return closed;
    }

    /** Closes the open window if {@code now} is past its end. */
    public synchronized List<Window> roll(Instant now) {
        Instant ws = windowStart(now);
        if (start == null) start = ws;
        if (ws.equals(start)) return List.of();
        List<Window> out = new ArrayList<>(1);
        if (!current.isEmpty()) out.add(new Window(start, current));
        current = new LinkedHashMap<>();
        start = ws;
        return out;
    }

    /** Closes the open window unconditionally (shutdown). */
    public synchronized List<Window> flush() {
        if (current.isEmpty() || start == null) return List.of();
        Window w = new Window(start, current);
        current = new LinkedHashMap<>();
        return List.of(w);
    }

    /** The open window's flows, copied: live data for queries. */
    public synchronized Window snapshot() {
        Map<FlowKey, Counts> copy = new LinkedHashMap<>();
        current.forEach((k, v) -> {
            Counts c = new Counts();
            c.sent = v.sent;
            c.recv = v.recv;
            c.conns = v.conns;
            copy.put(k, c);
        });
        return new Window(start, copy);
    }
}

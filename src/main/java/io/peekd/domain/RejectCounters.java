package io.peekd.domain;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Per-reason counters of dropped inputs, one set per parser instance. Thread-safe;
 * parsers may be shared by several capture threads.
 */
public final class RejectCounters {

    private final EnumMap<RejectReason, LongAdder> counts = new EnumMap<>(RejectReason.class);
    private final LongAdder parsed = new LongAdder();

    RejectCounters() {
        for (RejectReason r : RejectReason.values()) counts.put(r, new LongAdder());
    }

    /** Counts {@code result} and hands it back, so parsers can end with {@code return counters.record(...)}. */
    <T> ParseResult<T> record(ParseResult<T> result) {
        switch (result) {
            case ParseResult.Parsed<T> p -> parsed.increment();
            case ParseResult.Rejected<T>(RejectReason reason, String detail) -> counts.get(reason).increment();
        }
        return result;
    }

    public long rejected(RejectReason reason) {
        return counts.get(reason).sum();
    }

    public long parsed() {
        return parsed.sum();
    }

    public long rejectedTotal() {
        long n = 0;
        for (LongAdder a : counts.values()) n += a.sum();
        return n;
    }

    /** Non-zero counters only, in enum order. */
    public Map<RejectReason, Long> snapshot() {
        EnumMap<RejectReason, Long> out = new EnumMap<>(RejectReason.class);
        counts.forEach((r, a) -> {
            long v = a.sum();
            if (v != 0) out.put(r, v);
        });
        return Collections.unmodifiableMap(out);
    }
}

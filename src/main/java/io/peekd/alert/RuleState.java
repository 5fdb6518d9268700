package io.peekd.alert;

import java.time.Instant;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Noise control and counters of one rule, kept by rule name so that a reload does not
 * reset them. Used under the engine's lock only.
 */
final class RuleState {
    /** Dedup keys remembered per rule; beyond that the oldest are forgotten (and may alert again). */
    static final int MAX_DEDUP_KEYS = 20_000;
    /** Threshold sums kept per rule (one per executable and window). */
    static final int MAX_SUMS = 20_000;

    enum Verdict { FIRE, DEDUP, RATE }

    long fired, suppressedDedup, suppressedRate, failed, dropped;
    /** Suppressed since the last alert that fired: reported with the next one. */
    long suppressedSinceLast;
    Instant lastFired;
    String lastResult;
    private boolean rateWarned;
    private final ArrayDeque<Long> lastHour = new ArrayDeque<>();
    private final LinkedHashMap<Object, Long> dedupUntil = new LinkedHashMap<>(16, 0.75f, false) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Object, Long> e) {
            return size() > MAX_DEDUP_KEYS;
        }
    };
    final Map<String, long[]> sums = new HashMap<>();

    /** Decides whether an alert with this dedup key fires now, and counts it either way. */
    Verdict admit(Rule rule, Object key, long nowMs) {
        if (!rule.dedup().isZero()) {
            Long until = dedupUntil.get(key);
            if (until != null && nowMs < until) {
                suppressedDedup++;
                suppressedSinceLast++;
                return Verdict.DEDUP;
            }
        }
        if (rule.maxPerHour() > 0) {
            while (!lastHour.isEmpty() && lastHour.peekFirst() <= nowMs - 3_600_000L) lastHour.pollFirst();
            if (lastHour.size() >= rule.maxPerHour()) {
                suppressedRate++;
                suppressedSinceLast++;
                return Verdict.RATE;
            }
            lastHour.addLast(nowMs);
        }
        rateWarned = false;
        if (!rule.dedup().isZero()) {
            dedupUntil.remove(key); // re-insert so the order stays by time of last alert
            dedupUntil.put(key, nowMs + rule.dedup().toMillis());
            expire(nowMs);
        }
        fired++;
        return Verdict.FIRE;
    }

    /** True once per stretch of rate limiting, so the log says it once, not per suppressed alert. */
    boolean firstRateWarning() {
        if (rateWarned) return false;
        rateWarned = true;
        return true;
    }

    private void expire(long nowMs) {
        for (Iterator<Long> it = dedupUntil.values().iterator(); it.hasNext(); ) {
            if (it.next() > nowMs) break;
            it.remove();
        }
    }

    /**
     * Adds a matching row's bytes to the executable's sum in {@code bucket}; returns the sums
     * [sent, recv] when they cross the threshold for the first time in that bucket, else null.
     */
    long[] addBytes(Rule.Threshold t, String who, long bucket, long sent, long recv) {
        long[] s = sums.get(who);
        if (s == null || s[0] != bucket) {
            if (s == null && sums.size() >= MAX_SUMS) sums.values().removeIf(x -> x[0] < bucket);
            if (s == null && sums.size() >= MAX_SUMS) return null;
            s = new long[] {bucket, 0, 0, 0};
            sums.put(who, s);
        }
        s[1] += sent;
        s[2] += recv;
        boolean over = (t.minSent() == 0 || s[1] >= t.minSent()) && (t.minRecv() == 0 || s[2] >= t.minRecv());
        if (!over || s[3] != 0) return null;
        s[3] = 1;
        return new long[] {s[1], s[2]};
    }
}

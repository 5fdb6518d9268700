package io.peekd.tui;

import java.time.Duration;
import java.util.Locale;

/** The ranges {@code t}/{@code T} cycle through, as in picosnitch: everything, or the last minute up to a year. */
public enum TimeRange {
    ALL("all", "all time", null),
    MINUTE("1m", "1 minute", Duration.ofMinutes(1)),
    FIVE_MINUTES("5m", "5 minutes", Duration.ofMinutes(5)),
    QUARTER("15m", "15 minutes", Duration.ofMinutes(15)),
    HOUR("1h", "1 hour", Duration.ofHours(1)),
    SIX_HOURS("6h", "6 hours", Duration.ofHours(6)),
    DAY("1d", "1 day", Duration.ofDays(1)),
    WEEK("1w", "1 week", Duration.ofDays(7)),
    MONTH("30d", "30 days", Duration.ofDays(30)),
    YEAR("1y", "1 year", Duration.ofDays(365));

    private final String id;
    private final String label;
    private final Duration length;

    TimeRange(String id, String label, Duration length) {
        this.id = id;
        this.label = label;
        this.length = length;
    }

    public String id() {
        return id;
    }

    String label() {
        return label;
    }

    /** Null for {@link #ALL}. */
    Duration length() {
        return length;
    }

    TimeRange next() {
        TimeRange[] all = values();
        return all[(ordinal() + 1) % all.length];
    }

    TimeRange previous() {
        TimeRange[] all = values();
        return all[(ordinal() + all.length - 1) % all.length];
    }

    public static TimeRange parse(String s) {
        String want = s.trim().toLowerCase(Locale.ROOT);
        for (TimeRange r : values()) {
            if (r.id.equals(want)) {
                return r;
            }
        }
        StringBuilder ids = new StringBuilder();
        for (TimeRange r : values()) {
            ids.append(ids.isEmpty() ? "" : ", ").append(r.id);
        }
        throw new IllegalArgumentException("unknown range \"" + s + "\"; one of " + ids);
    }
}

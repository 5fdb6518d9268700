package io.peekd.config;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * Durations as users type them in the config and on the command line: one whole
 * number and one unit, such as {@code 30s}, {@code 15m}, {@code 24h}, {@code 7d},
 * {@code 2w} or {@code 1y}. A week is 7 days and a year is 365 days, because the
 * history is kept in plain seconds and calendar years would make "1y" shift with
 * leap days.
 */
public final class Durations {

    /** The largest duration accepted; anything longer is almost surely a typo. */
    public static final Duration MAX = Duration.ofDays(100L * 365);

    static final String EXAMPLES = "30s, 15m, 24h, 7d, 2w or 1y";

    private static final Pattern SHAPE = Pattern.compile("(\\d+)\\s*(\\S*)");

    private Durations() {
    }

    /**
     * Parses {@code text}. Surrounding blanks are ignored.
     *
     * @throws IllegalArgumentException with a message fit to show to a user
     */
    public static Duration parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty duration; write a number and a unit, such as " + EXAMPLES);
        }
        String t = text.strip();
        var m = SHAPE.matcher(t);
        if (!m.matches()) {
            throw new IllegalArgumentException("\"" + t + "\" is not a duration; write a whole number and a unit, such as "
                    + EXAMPLES);
        }
        String unit = m.group(2);
        if (unit.matches("[.,]\\d.*")) {
            throw new IllegalArgumentException("\"" + t + "\" is not a whole number; use a smaller unit instead, e.g. 90m for 1.5h");
        }
        if (unit.isEmpty()) {
            throw new IllegalArgumentException("\"" + t + "\" has no unit; add one of s, m, h, d, w or y, as in "
                    + m.group(1) + "s");
        }
        long seconds = switch (unit) {
            case "s" -> 1;
            case "m" -> 60;
            case "h" -> 3_600;
            case "d" -> 86_400;
            case "w" -> 7 * 86_400;
            case "y" -> 365 * 86_400;
            default -> throw new IllegalArgumentException("unknown unit \"" + unit + "\" in \"" + t
                    + "\"; units are s (seconds), m (minutes), h (hours), d (days), w (weeks), y (years)");
        };
        long amount;
        try {
            amount = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw tooLong(t);
        }
        if (amount == 0) {
            throw new IllegalArgumentException("\"" + t + "\" is zero; a duration must be at least 1s");
        }
        if (amount > MAX.getSeconds() / seconds) {
            throw tooLong(t);
        }
        return Duration.ofSeconds(amount * seconds);
    }

    /**
     * Writes {@code d} in the largest unit that divides it exactly, so that
     * {@code parse(format(d)).equals(d)}.
     *
     * @throws IllegalArgumentException if {@code d} is not a positive whole number of seconds
     */
    public static String format(Duration d) {
        if (d.isNegative() || d.isZero() || d.getNano() != 0) {
            throw new IllegalArgumentException("cannot write " + d + " as a duration: it must be a positive whole number of seconds");
        }
        long s = d.getSeconds();
        if (s % (365 * 86_400) == 0) {
            return s / (365 * 86_400) + "y";
        }
        if (s % (7 * 86_400) == 0) {
            return s / (7 * 86_400) + "w";
        }
        if (s % 86_400 == 0) {
            return s / 86_400 + "d";
        }
        if (s % 3_600 == 0) {
            return s / 3_600 + "h";
        }
        if (s % 60 == 0) {
            return s / 60 + "m";
        }
        return s + "s";
    }

    private static IllegalArgumentException tooLong(String t) {
        return new IllegalArgumentException("\"" + t + "\" is too long; the longest duration is 100y");
    }
}

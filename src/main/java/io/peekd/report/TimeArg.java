package io.peekd.report;

import java.time.DateTimeException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.temporal.ChronoField;

/**
 * Absolute times on the command line ({@code --from}, {@code --to}). A time with a zone or
 * offset means exactly that instant; one without is local time in {@code zone}, as the user
 * reads their clock. Everything is turned into a UTC instant before it meets the database,
 * which stores UTC only, so local and UTC times are never compared with each other.
 */
public final class TimeArg {

    public static final String EXAMPLES = "2026-01-31, \"2026-01-31 14:00\", 2026-01-31T14:00:00Z,"
            + " 2026-01-31T14:00+01:00 or now";

    private static final DateTimeFormatter LOCAL = new DateTimeFormatterBuilder()
            .append(DateTimeFormatter.ISO_LOCAL_DATE)
            .optionalStart().appendLiteral('T').optionalEnd()
            .optionalStart().appendLiteral(' ').optionalEnd()
            .appendValue(ChronoField.HOUR_OF_DAY, 2).appendLiteral(':').appendValue(ChronoField.MINUTE_OF_HOUR, 2)
            .optionalStart().appendLiteral(':').appendValue(ChronoField.SECOND_OF_MINUTE, 2).optionalEnd()
            .toFormatter();

    private TimeArg() {
    }

    /** @throws IllegalArgumentException with the accepted forms */
    public static Instant parse(String text, ZoneId zone, Instant now) {
        String t = text.strip();
        if (t.equalsIgnoreCase("now")) {
            return now;
        }
        try {
            return OffsetDateTime.parse(t).toInstant();
        } catch (DateTimeException ignored) {
            // not with an offset; try local forms
        }
        try {
            return Instant.parse(t);
        } catch (DateTimeException ignored) {
            // no Z either
        }
        try {
            return LocalDateTime.parse(t, LOCAL).atZone(zone).toInstant();
        } catch (DateTimeException ignored) {
            // maybe a date alone
        }
        try {
            return LocalDate.parse(t).atStartOfDay(zone).toInstant();
        } catch (DateTimeException e) {
            throw new IllegalArgumentException("\"" + text + "\" is not a time; write for example " + EXAMPLES
                    + " (without a zone it is local time, " + zone.getId() + ")");
        }
    }
}

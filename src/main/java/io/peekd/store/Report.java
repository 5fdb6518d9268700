package io.peekd.store;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalInt;

/** What {@code peekd report} asks for and what it gets back. */
public final class Report {

    private Report() {
    }

    /** A dimension to group by. */
    public enum Dim {
        EXE(Where.Field.EXE), NAME(Where.Field.NAME), SHA256(Where.Field.SHA256), PARENT(Where.Field.PARENT),
        USER(Where.Field.USER), DOMAIN(Where.Field.DOMAIN), RADDR(Where.Field.RADDR), RPORT(Where.Field.RPORT),
        LPORT(Where.Field.LPORT), CONTAINER(Where.Field.CONTAINER), COUNTRY(Where.Field.COUNTRY),
        ASN(Where.Field.ASN);

        final Where.Field field;

        Dim(Where.Field field) {
            this.field = field;
        }

        /** The name on the command line and in JSON/CSV output. */
        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }

        public boolean numeric() {
            return field.numeric;
        }

        /** Only the raw windows keep it (they alone know local ports). */
        public boolean rawOnly() {
            return field.rawOnly;
        }

        /** @throws IllegalArgumentException naming the choices */
        public static Dim parse(String s) {
            for (Dim d : values()) {
                if (d.key().equals(s.strip().toLowerCase(Locale.ROOT))) {
                    return d;
                }
            }
            List<String> names = new ArrayList<>();
            for (Dim d : values()) {
                names.add(d.key());
            }
            throw new IllegalArgumentException("unknown dimension \"" + s + "\"; choose from " + String.join(", ", names));
        }
    }

    /**
     * Exact-match filters; null means no filter. {@code domain} also matches subdomains
     * ("example.com" matches "www.example.com"); {@code user} is a name or a numeric uid.
     */
    public record Filters(String exe, String name, String domain, String user, String container) {
        public static Filters none() {
            return new Filters(null, null, null, null, null);
        }
    }

    /**
     * @param from     windows starting at or after this instant
     * @param to       windows starting before this instant
     * @param by       dimensions to group by, at least one
     * @param where    an extra condition, or null
     * @param top      at most this many groups, largest first; 0 means all
     * @param onlyUid  restricts the report to one user's processes (callers over the socket)
     */
    public record Spec(Instant from, Instant to, List<Dim> by, Filters filters, Where where, int top,
                       OptionalInt onlyUid) {
        public Spec {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(filters, "filters");
            Objects.requireNonNull(onlyUid, "onlyUid");
            by = List.copyOf(by);
            if (by.isEmpty()) {
                throw new IllegalArgumentException("group by at least one dimension");
            }
            if (by.stream().distinct().count() != by.size()) {
                throw new IllegalArgumentException("a dimension is named twice in " + by);
            }
            if (top < 0) {
                throw new IllegalArgumentException("top must be 0 (all) or positive, got " + top);
            }
            if (from.isAfter(to)) {
                throw new IllegalArgumentException("the range starts (" + from + ") after it ends (" + to + ")");
            }
        }

        /** Whether only the raw windows can answer (a raw-only dimension or condition). */
        public boolean needsRaw() {
            return by.stream().anyMatch(Dim::rawOnly) || where != null && where.needsRaw();
        }

        Spec withOnlyUid(int uid) {
            return new Spec(from, to, by, filters, where, top, OptionalInt.of(uid));
        }
    }

    /**
     * One group: the values of the dimensions, in the order asked (String, or Long for
     * ports; null when unknown), and its traffic.
     */
    public record Row(List<Object> keys, long sent, long recv, long conns) {
        public Row {
            keys = java.util.Collections.unmodifiableList(new ArrayList<>(keys));
        }

        public long total() {
            return sent + recv;
        }
    }

    /** Which table answered which part of the range. */
    public record Source(String table, Instant from, Instant to) {
        public Duration length() {
            return Duration.between(from, to);
        }
    }

    /**
     * @param from     the start actually covered: later than asked when the finer tables have
     *                 passed their retention there, and the range was rounded to what remains
     * @param to       the end actually covered
     * @param groups   how many groups there were before {@code top} cut the list
     * @param totals   traffic over all groups, not only the rows shown
     * @param notes    what the reader should know (rounded range, data past retention)
     */
    public record Result(List<Dim> by, List<Row> rows, long groups, Row totals, Instant from, Instant to,
                         List<Source> sources, List<String> notes) {
        public Result {
            by = List.copyOf(by);
            rows = List.copyOf(rows);
            sources = List.copyOf(sources);
            notes = List.copyOf(notes);
        }
    }
}

package io.peekd.web;

import io.peekd.config.Durations;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which rows a view covers: a time range and exact matches on any dimension. The vocabulary
 * is that of {@code peekd report}: {@code since}, {@code from}, {@code to}, and one parameter
 * per dimension ({@code exe}, {@code name}, {@code domain}, {@code user}, {@code container}, ...).
 * A dimension given several times matches any of the values; an empty value matches rows
 * where that field is unknown.
 *
 * @param from inclusive, window start in epoch seconds
 * @param to   exclusive
 */
record Filter(long from, long to, Map<Dim, List<String>> eq) {

    /** Parameters every filtered endpoint takes. */
    static final Set<String> PARAMS;

    static {
        Set<String> p = new HashSet<>(Set.of("since", "from", "to", "parent"));
        for (Dim d : Dim.values()) p.add(d.key());
        PARAMS = Set.copyOf(p);
    }

    static final int MAX_VALUES = 200;

    static Filter parse(Params p, Duration defaultSince, Instant now) {
        String since = p.one("since"), from = p.one("from"), to = p.one("to");
        if (since != null && from != null) throw new BadRequest("give either since or from, not both");
        long end = to == null || to.isEmpty() ? now.getEpochSecond() + 1 : time("to", to, now);
        long start;
        if (from != null && !from.isEmpty()) {
            start = time("from", from, now);
        } else {
            Duration d;
            try {
                d = since == null || since.isEmpty() ? defaultSince : Durations.parse(since);
            } catch (IllegalArgumentException e) {
                throw new BadRequest("since: " + e.getMessage());
            }
            start = Math.max(0, end - d.toSeconds());
        }
        if (start >= end) throw new BadRequest("the time range is empty: from must be before to");
        Map<Dim, List<String>> eq = new EnumMap<>(Dim.class);
        for (String name : p.names()) {
            if (!name.equals("parent") && !isDim(name)) continue;
            Dim d = Dim.parseAlias(name, name);
            List<String> vals = p.all(name);
            if (vals.size() > MAX_VALUES) throw new BadRequest(name + ": at most " + MAX_VALUES + " values");
            for (String v : vals) {
                if (d.numeric && !v.isEmpty() && !v.matches("-?\\d{1,10}"))
                    throw new BadRequest(name + ": expected a number, got \"" + v + "\"");
                if (v.length() > 4096) throw new BadRequest(name + ": value longer than 4096 characters");
            }
            eq.computeIfAbsent(d, x -> new ArrayList<>()).addAll(vals);
        }
        return new Filter(start, end, eq);
    }

    private static boolean isDim(String name) {
        for (Dim d : Dim.values()) if (d.key().equals(name)) return true;
        return false;
    }

    /**
     * ISO-8601 with a zone or offset ({@code 2026-11-22T10:00:00Z}), a local date-time read in
     * the server's zone ({@code 2026-11-22T11:00}), or epoch seconds.
     */
    static long time(String name, String v, Instant now) {
        String s = v.strip();
        try {
            if (s.matches("\\d{1,12}")) return Long.parseLong(s);
            if (s.endsWith("Z") || s.matches(".*[+-]\\d\\d:\\d\\d$")) return OffsetDateTime.parse(s).toEpochSecond();
            return LocalDateTime.parse(s).atZone(ZoneId.systemDefault()).toEpochSecond();
        } catch (DateTimeException | NumberFormatException e) {
            throw new BadRequest(name + ": expected a time such as 2026-11-22T10:00:00Z, 2026-11-22T11:00"
                    + " (local) or epoch seconds, got \"" + v + "\"");
        }
    }

    /**
     * The SQL condition on {@code flows f}, its values appended to {@code args} in order.
     * Conditions on the process identity become one {@code f.ident_id IN (...)} over the small
     * identity tables, so that no query has to join every flow row just to filter it.
     */
    String where(List<Object> args) {
        args.add(from);
        args.add(to);
        return " WHERE f.time >= ? AND f.time < ?" + conditions(args);
    }

    /**
     * The conditions without the time range, for a source that has already cut it (the
     * per-destination sums, whose {@code f} has only destination columns).
     */
    String whereNoTime(List<Object> args) {
        return " WHERE 1" + conditions(args);
    }

    private String conditions(List<Object> args) {
        StringBuilder sb = new StringBuilder();
        eq.forEach((d, vals) -> {
            if (d.flow()) sb.append(condition(d, vals, args));
        });
        List<Object> identArgs = new ArrayList<>();
        String ident = identConditions(identArgs);
        if (!ident.isEmpty()) {
            sb.append(" AND f.ident_id IN (SELECT i.id").append(IDENTS).append(ident).append(')');
            args.addAll(identArgs);
        }
        return sb.toString();
    }

    private static final String IDENTS = " FROM idents i JOIN exes e ON e.id = i.exe_id"
            + " JOIN exes pe ON pe.id = i.pexe_id WHERE 1";

    /**
     * The conditions on the process identity as {@code AND column IN (...)} over the rollup
     * identities they match, for rows keyed by rollup identity; empty without any. Every
     * idents row of a rollup identity has the same values of the dimensions that identity
     * keeps ({@link Views#IDENT_HOURLY}), so with filters on those alone the rollup rows
     * match exactly the raw rows they sum.
     */
    String rollupIdentWhere(String column, List<Object> args) {
        List<Object> identArgs = new ArrayList<>();
        String ident = identConditions(identArgs);
        if (ident.isEmpty()) return "";
        args.addAll(identArgs);
        return " AND " + column + " IN (SELECT i.rollup_id" + IDENTS + ident + ")";
    }

    private String identConditions(List<Object> args) {
        StringBuilder sb = new StringBuilder();
        eq.forEach((d, vals) -> {
            if (!d.flow()) sb.append(condition(d, vals, args));
        });
        return sb.toString();
    }

    private static String condition(Dim d, List<String> vals, List<Object> args) {
        List<String> terms = new ArrayList<>();
        List<Object> in = new ArrayList<>();
        for (String v : vals) {
            if (v.isEmpty()) terms.add(d.numeric ? d.sql + " < 0" : "(" + d.sql + " IS NULL OR " + d.sql + " = '')");
            else in.add(d.numeric ? (Object) Long.parseLong(v) : v);
        }
        if (!in.isEmpty()) terms.add(d.sql + (in.size() == 1 ? " = ?" : " IN (" + "?,".repeat(in.size() - 1) + "?)"));
        args.addAll(in);
        return " AND (" + String.join(" OR ", terms) + ")";
    }

    long seconds() {
        return to - from;
    }
}

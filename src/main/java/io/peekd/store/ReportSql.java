package io.peekd.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

import io.peekd.store.Report.Dim;
import io.peekd.store.Where.Field;

/**
 * Plans and runs a report in one SQL statement, so that it reads one snapshot.
 *
 * <p>The range is cut into pieces that each come from the coarsest table able to answer
 * them exactly: whole UTC days from the day rollups, whole hours at the edges from the hour
 * rollups, then minutes, then the raw windows for the last seconds. A window belongs to the
 * range when its start does, in every table alike, so the pieces add up to what the raw
 * windows alone would give, as long as the raw windows are still there.
 *
 * <p>Each table is pruned at a cutoff aligned to the next coarser bucket ({@link Retention}),
 * so a finer table is complete from its cutoff on. Where a range reaches back past a finer
 * table's cutoff, its start is rounded up to the coarser bucket and the result says so.
 */
final class ReportSql {

    /**
     * A table, its narrow twins if any (per identity; per identity and domain), and its bucket
     * width; {@code RAW} is the flows table itself.
     */
    enum Tier {
        RAW("flows", null, null, 1, 0), MINUTE("rollup_minute", null, null, 60, 0),
        HOUR("rollup_hour", "rollup_hour_ident", "rollup_hour_domain", 3_600, 0),
        DAY("rollup_day", "rollup_day_ident", "rollup_day_domain", 86_400, 0),
        /** Only per identity and domain ({@link Rollups#WEEK_DOMAIN}); used by reports that need no more. */
        WEEK(null, null, Rollups.WEEK_DOMAIN, Rollups.WEEK, Rollups.WEEK_OFFSET);

        final String table;
        final String identTable;
        final String domainTable;
        final long seconds;
        /** Buckets start at multiples of seconds plus this (weeks start on Monday). */
        final long offset;

        Tier(String table, String identTable, String domainTable, long seconds, long offset) {
            this.table = table;
            this.identTable = identTable;
            this.domainTable = domainTable;
            this.seconds = seconds;
            this.offset = offset;
        }

        /** The table whose recorded cutoff applies, and that names this tier in results. */
        String key() {
            return table != null ? table : domainTable;
        }

        long floor(long t) {
            return Math.floorDiv(t - offset, seconds) * seconds + offset;
        }

        long ceil(long t) {
            return -Math.floorDiv(offset - t, seconds) * seconds + offset;
        }
    }

    /** Fields of the rollup identity (rollup_idents), as opposed to the flow-level ones. */
    private static final Set<Field> IDENT_FIELDS = EnumSet.of(Field.EXE, Field.NAME, Field.SHA256, Field.PARENT,
            Field.PNAME, Field.PSHA256, Field.UID, Field.USER, Field.CONTAINER);

    private record Segment(Tier tier, long from, long to) {
    }

    /** Flow-level fields that the rollups keep next to the rollup identity. */
    private static final Set<Field> FLOW_FIELDS = EnumSet.of(Field.PROTO, Field.FAMILY, Field.RADDR, Field.RPORT,
            Field.DOMAIN);

    private ReportSql() {
    }

    static Report.Result run(Connection c, Report.Spec spec) throws SQLException {
        long[] cutoff = new long[Tier.values().length];
        for (Tier t : Tier.values()) {
            cutoff[t.ordinal()] = Retention.cutoff(c, t.key());
        }
        long a = ceilSeconds(spec.from());
        long b = ceilSeconds(spec.to());
        List<String> notes = new ArrayList<>();
        List<Segment> segments = new ArrayList<>();
        if (spec.needsRaw()) {
            long raw = cutoff[Tier.RAW.ordinal()];
            if (a < raw) {
                notes.add("raw windows before " + Instant.ofEpochSecond(raw) + " are past retention_days;"
                        + " local ports and the fields only raw windows keep cannot be reported before then");
                a = Math.min(raw, b);
            }
            if (a < b) {
                segments.add(new Segment(Tier.RAW, a, b));
            }
        } else {
            // Weeks answer only what the per-identity-and-domain tables can.
            Tier top = domainNarrow(spec) ? Tier.WEEK : Tier.DAY;
            Tier fa = finest(cutoff, a, top);
            if (fa == null) {
                long kept = cutoff[top.ordinal()];
                notes.add("nothing before " + Instant.ofEpochSecond(kept) + " is kept (rollup_day_days)");
                a = kept;
                fa = top;
            }
            long a2 = fa.ceil(a);
            if (a2 != a) {
                notes.add("starts at " + Instant.ofEpochSecond(a2) + ", not " + Instant.ofEpochSecond(a) + ": before "
                        + "then only " + fa.key() + " is left, which counts whole " + unit(fa));
            }
            Tier fb = finest(cutoff, b, top);
            long b2 = fb == null ? a2 : fb.floor(b);
            if (fb != null && b2 != b) {
                notes.add("ends at " + Instant.ofEpochSecond(b2) + ", not " + Instant.ofEpochSecond(b) + ": there only "
                        + fb.key() + " is left, which counts whole " + unit(fb));
            }
            a = a2;
            b = Math.max(a2, b2);
            cover(a, b, top, segments);
            segments.sort((x, y) -> Long.compare(x.from(), y.from()));
        }
        List<Report.Source> sources = segments.stream()
                .map(s -> new Report.Source(s.tier().key(), Instant.ofEpochSecond(s.from()), Instant.ofEpochSecond(s.to())))
                .toList();
        Instant from = Instant.ofEpochSecond(a), to = Instant.ofEpochSecond(Math.max(a, b));
        if (segments.isEmpty()) {
            return new Report.Result(spec.by(), List.of(), 0, new Report.Row(nulls(spec.by().size()), 0, 0, 0),
                    from, to, sources, notes);
        }
        List<Object> args = new ArrayList<>();
        String sql = spec.needsRaw() ? rawSql(spec, segments.getFirst(), args) : rollupSql(spec, segments, args);
        List<Report.Row> rows = new ArrayList<>();
        long groups = 0, sent = 0, recv = 0, conns = 0;
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
            try (ResultSet rs = ps.executeQuery()) {
                int n = spec.by().size();
                while (rs.next()) {
                    List<Object> keys = new ArrayList<>(n);
                    for (int i = 0; i < n; i++) {
                        Object v = rs.getObject(i + 1);
                        keys.add(v == null ? null : spec.by().get(i).numeric() ? (Object) rs.getLong(i + 1) : rs.getString(i + 1));
                    }
                    rows.add(new Report.Row(keys, rs.getLong(n + 1), rs.getLong(n + 2), rs.getLong(n + 3)));
                    groups = rs.getLong(n + 4);
                    sent = rs.getLong(n + 5);
                    recv = rs.getLong(n + 6);
                    conns = rs.getLong(n + 7);
                }
            }
        }
        return new Report.Result(spec.by(), rows, groups, new Report.Row(nulls(spec.by().size()), sent, recv, conns),
                from, to, sources, notes);
    }

    private static List<Object> nulls(int n) {
        List<Object> l = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            l.add(null);
        }
        return l;
    }

    private static String unit(Tier t) {
        return switch (t) {
            case RAW -> "windows";
            case MINUTE -> "minutes";
            case HOUR -> "hours";
            case DAY -> "days (UTC)";
            case WEEK -> "weeks (Monday to Sunday, UTC)";
        };
    }

    /** The finest table up to {@code top} that still holds everything from {@code t} on, or null when none does. */
    private static Tier finest(long[] cutoff, long t, Tier top) {
        for (Tier tier : Tier.values()) {
            if (tier.ordinal() > top.ordinal()) {
                break;
            }
            if (cutoff[tier.ordinal()] <= t) {
                return tier;
            }
        }
        return null;
    }

    /** Nothing asked beyond the identity and the domain, and the domain is asked (else the identity tables win). */
    private static boolean domainNarrow(Report.Spec spec) {
        List<Field> carried = carried(spec);
        return carried.stream().allMatch(f -> f == Field.DOMAIN)
                && (carried.contains(Field.DOMAIN) || spec.filters().domain() != null);
    }

    /** Flow-level fields a report needs from each segment: those grouped by or named in --where. */
    private static List<Field> carried(Report.Spec spec) {
        List<Field> carried = new ArrayList<>();
        for (Field f : Field.values()) {
            boolean used = spec.by().stream().anyMatch(d -> d.field == f)
                    || spec.where() != null && spec.where().fields().contains(f);
            if (used && FLOW_FIELDS.contains(f)) {
                carried.add(f);
            }
        }
        return carried;
    }

    private static void cover(long a, long b, Tier tier, List<Segment> out) {
        if (a >= b) {
            return;
        }
        if (tier == Tier.RAW) {
            out.add(new Segment(Tier.RAW, a, b));
            return;
        }
        long lo = tier.ceil(a), hi = tier.floor(b);
        Tier finer = Tier.values()[tier.ordinal() - 1];
        if (lo < hi) {
            out.add(new Segment(tier, lo, hi));
            cover(a, lo, finer, out);
            cover(hi, b, finer, out);
        } else {
            cover(a, b, finer, out);
        }
    }

    static long floor(long t, long g) {
        return Math.floorDiv(t, g) * g;
    }

    static long ceil(long t, long g) {
        return -Math.floorDiv(-t, g) * g;
    }

    /** Windows start on whole seconds: "at or after t" is "at or after t rounded up". */
    private static long ceilSeconds(Instant t) {
        long s = t.getEpochSecond();
        return t.getNano() == 0 || s == Long.MAX_VALUE ? s : s + 1;
    }

    // ---- rollup-capable reports: segments of (rid, flow fields, sums), then one join -------------

    private static String rollupSql(Report.Spec spec, List<Segment> segments, List<Object> args) {
        List<Field> carried = carried(spec);
        // The identity is carried (and joined) only when something about it is asked; filters on
        // it work inside each segment either way.
        boolean identity = spec.by().stream().anyMatch(d -> IDENT_FIELDS.contains(d.field))
                || spec.where() != null && spec.where().fields().stream().anyMatch(IDENT_FIELDS::contains);
        StringBuilder union = new StringBuilder();
        for (Segment s : segments) {
            if (!union.isEmpty()) {
                union.append(" UNION ALL ");
            }
            union.append(segmentSql(spec, s, carried, identity, args));
        }
        Function<Field, String> outer = f -> switch (f) {
            case EXE -> "coalesce(ri.exe, '')";
            case NAME -> "coalesce(ri.name, '')";
            case SHA256 -> "coalesce(ri.sha256, '')";
            case PARENT -> "coalesce(ri.pexe, '')";
            case PNAME -> "coalesce(ri.pname, '')";
            case PSHA256 -> "coalesce(ri.psha256, '')";
            case UID -> "ri.uid";
            case USER -> "coalesce(CASE WHEN ri.user = '' THEN CAST(ri.uid AS TEXT) ELSE ri.user END, '')";
            case CONTAINER -> "coalesce(ri.container, '')";
            case PROTO, FAMILY, RADDR, RPORT, DOMAIN -> "u." + f.key();
            case COUNTRY, ASN -> "''";
            default -> throw new IllegalStateException(f + " is not in the rollups");
        };
        List<String> dims = new ArrayList<>();
        for (Dim d : spec.by()) {
            dims.add(switch (d) {
                case RPORT -> "CASE WHEN u.rport < 0 THEN NULL ELSE u.rport END";
                case COUNTRY, ASN -> "NULL";
                default -> "NULLIF(" + outer.apply(d.field) + ", '')";
            });
        }
        String where = spec.where() == null ? "" : " WHERE " + spec.where().sql(outer, args);
        return select(dims, "sum(u.s)", "sum(u.r)", "sum(u.n)")
                + " FROM (" + union + ") u" + (identity ? " LEFT JOIN rollup_idents ri ON ri.id = u.rid" : "") + where
                + tail(dims.size(), spec.top(), "sum(u.s)", "sum(u.r)");
    }

    private static String segmentSql(Report.Spec spec, Segment s, List<Field> carried, boolean identity,
                                     List<Object> args) {
        boolean raw = s.tier() == Tier.RAW;
        // The narrowest table with every column asked: nothing about destinations, or only the domain.
        boolean domainOnly = carried.stream().allMatch(f -> f == Field.DOMAIN);
        String table = s.tier() == Tier.WEEK ? s.tier().domainTable
                : s.tier().identTable == null ? s.tier().table
                : carried.isEmpty() && spec.filters().domain() == null ? s.tier().identTable
                : domainOnly ? s.tier().domainTable : s.tier().table;
        StringBuilder cols = new StringBuilder(!identity ? "0 AS rid"
                : raw ? "coalesce(i.rollup_id, 0) AS rid" : "x.rid AS rid");
        for (Field f : carried) {
            cols.append(", ").append(raw ? rawFlowColumn(f) : "x." + f.key()).append(" AS ").append(f.key());
        }
        List<String> terms = new ArrayList<>();
        if (raw) {
            terms.add("f.time >= ?");
            terms.add("f.time < ?");
        } else {
            terms.add("x.bucket >= ?");
            terms.add("x.bucket < ?");
        }
        args.add(s.from());
        args.add(s.to());
        Report.Filters fl = spec.filters();
        if (fl.domain() != null) {
            String col = raw ? "coalesce(f.domain, '')" : "x.domain";
            terms.add("(" + col + " = ? OR " + col + " LIKE ? ESCAPE '\\')");
            args.add(fl.domain());
            args.add("%." + escapeLike(fl.domain()));
        }
        List<String> identTerms = new ArrayList<>();
        identFilters(spec, identTerms, args);
        if (!identTerms.isEmpty()) {
            terms.add((raw ? "i.rollup_id" : "x.rid") + " IN (SELECT id FROM rollup_idents WHERE "
                    + String.join(" AND ", identTerms) + ")");
        }
        String from = raw ? " FROM flows f JOIN idents i ON i.id = f.ident_id" : " FROM " + table + " x";
        String sums = raw ? "sum(f.sent) AS s, sum(f.recv) AS r, sum(f.conns) AS n"
                : "sum(x.sent) AS s, sum(x.recv) AS r, sum(x.conns) AS n";
        StringBuilder group = new StringBuilder(" GROUP BY 1");
        for (int i = 0; i < carried.size(); i++) {
            group.append(", ").append(i + 2);
        }
        return "SELECT " + cols + ", " + sums + from + " WHERE " + String.join(" AND ", terms) + group;
    }

    /** Conditions on the rollup identity, as columns of rollup_idents. */
    private static void identFilters(Report.Spec spec, List<String> terms, List<Object> args) {
        Report.Filters fl = spec.filters();
        if (fl.exe() != null) {
            terms.add("exe = ?");
            args.add(fl.exe());
        }
        if (fl.name() != null) {
            terms.add("name = ?");
            args.add(fl.name());
        }
        if (fl.container() != null) {
            terms.add("container = ?");
            args.add(fl.container());
        }
        if (fl.user() != null) {
            Long uid = uid(fl.user());
            terms.add(uid != null ? "uid = ?" : "user = ?");
            args.add(uid != null ? uid : fl.user());
        }
        spec.onlyUid().ifPresent(u -> {
            terms.add("uid = ?");
            args.add(u);
        });
    }

    private static String rawFlowColumn(Field f) {
        return switch (f) {
            case PROTO -> "coalesce(f.proto, '')";
            case FAMILY -> "f.family";
            case RADDR -> "coalesce(f.raddr, '')";
            case RPORT -> "f.rport";
            case DOMAIN -> "coalesce(f.domain, '')";
            default -> throw new IllegalStateException(f + " is not a flow field");
        };
    }

    // ---- raw-only reports: one range of the flows table, fully joined ------------------------------

    private static String rawSql(Report.Spec spec, Segment s, List<Object> args) {
        Function<Field, String> col = f -> switch (f) {
            case EXE -> "coalesce(e.path, '')";
            case NAME -> "coalesce(i.name, '')";
            case SHA256 -> "coalesce(e.sha256, '')";
            case PARENT -> "coalesce(pe.path, '')";
            case PNAME -> "coalesce(i.pname, '')";
            case PSHA256 -> "coalesce(pe.sha256, '')";
            case UID -> "i.uid";
            case USER -> "coalesce(NULLIF(i.user, ''), CAST(i.uid AS TEXT))";
            case CONTAINER -> "coalesce(i.container, '')";
            case PROTO -> "coalesce(f.proto, '')";
            case FAMILY -> "f.family";
            case DOMAIN -> "coalesce(f.domain, '')";
            case RADDR -> "coalesce(f.raddr, '')";
            case RPORT -> "f.rport";
            case COUNTRY, ASN -> "''";
            case LPORT -> "f.lport";
            case LADDR -> "coalesce(f.laddr, '')";
            case PID -> "f.pid";
            case PPID -> "f.ppid";
            case CMDLINE -> "coalesce(i.cmdline, '')";
            case PCMDLINE -> "coalesce(i.pcmdline, '')";
            case CGROUP -> "coalesce(i.cgroup, '')";
            case DOMAIN_SOURCE -> "coalesce(f.domain_source, '')";
            case DOMAIN_CONFIDENCE -> "coalesce(f.domain_confidence, '')";
        };
        List<String> dims = new ArrayList<>();
        for (Dim d : spec.by()) {
            dims.add(switch (d) {
                case RPORT, LPORT -> "CASE WHEN " + col.apply(d.field) + " < 0 THEN NULL ELSE " + col.apply(d.field) + " END";
                case COUNTRY, ASN -> "NULL";
                default -> "NULLIF(" + col.apply(d.field) + ", '')";
            });
        }
        List<String> terms = new ArrayList<>(List.of("f.time >= ?", "f.time < ?"));
        args.add(s.from());
        args.add(s.to());
        Report.Filters fl = spec.filters();
        if (fl.exe() != null) {
            terms.add("e.path = ?");
            args.add(fl.exe());
        }
        if (fl.name() != null) {
            terms.add("i.name = ?");
            args.add(fl.name());
        }
        if (fl.container() != null) {
            terms.add("i.container = ?");
            args.add(fl.container());
        }
        if (fl.user() != null) {
            Long uid = uid(fl.user());
            terms.add(uid != null ? "i.uid = ?" : "i.user = ?");
            args.add(uid != null ? uid : fl.user());
        }
        if (fl.domain() != null) {
            terms.add("(f.domain = ? OR f.domain LIKE ? ESCAPE '\\')");
            args.add(fl.domain());
            args.add("%." + escapeLike(fl.domain()));
        }
        spec.onlyUid().ifPresent(u -> {
            terms.add("i.uid = ?");
            args.add(u);
        });
        if (spec.where() != null) {
            terms.add(spec.where().sql(col, args));
        }
        return select(dims, "sum(f.sent)", "sum(f.recv)", "sum(f.conns)")
                + " FROM flows f JOIN idents i ON i.id = f.ident_id JOIN exes e ON e.id = i.exe_id"
                + " JOIN exes pe ON pe.id = i.pexe_id WHERE " + String.join(" AND ", terms)
                + tail(dims.size(), spec.top(), "sum(f.sent)", "sum(f.recv)");
    }

    // ---- shared -------------------------------------------------------------------------------------

    private static String select(List<String> dims, String sent, String recv, String conns) {
        StringBuilder sb = new StringBuilder("SELECT ");
        for (int i = 0; i < dims.size(); i++) {
            sb.append(dims.get(i)).append(" AS d").append(i).append(", ");
        }
        // The window functions see every group before LIMIT: the totals cover what --top hides.
        return sb.append(sent).append(" AS sent, ").append(recv).append(" AS recv, ").append(conns).append(" AS conns,")
                .append(" count(*) OVER () AS groups, sum(").append(sent).append(") OVER (), sum(").append(recv)
                .append(") OVER (), sum(").append(conns).append(") OVER ()").toString();
    }

    private static String tail(int dims, int top, String sent, String recv) {
        StringBuilder sb = new StringBuilder(" GROUP BY ");
        for (int i = 0; i < dims; i++) {
            sb.append(i == 0 ? "" : ", ").append("d").append(i);
        }
        sb.append(" ORDER BY ").append(sent).append(" + ").append(recv).append(" DESC");
        for (int i = 0; i < dims; i++) {
            sb.append(", d").append(i);
        }
        return sb.append(top > 0 ? " LIMIT " + top : "").toString();
    }

    private static Long uid(String user) {
        try {
            return Long.parseLong(user);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static String escapeLike(String s) {
        return s.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_");
    }
}

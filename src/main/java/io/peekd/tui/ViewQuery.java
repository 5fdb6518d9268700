package io.peekd.tui;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

import io.peekd.flow.FlowRow;

/**
 * What one screen of {@code peekd view} asks the database: the rows of one tab under the
 * drill-down filters, within the time range stepped back {@code offset} times from
 * {@code now}. Immutable, so the query thread can run it while the screen moves on.
 */
record ViewQuery(Dimension dim, List<Filter> filters, TimeRange range, int offset, long now, ZoneId zone) {

    /** More keys than this are cut off (the totals still count them), to bound memory and drawing. */
    static final int MAX_ENTRIES = 50_000;

    ViewQuery {
        filters = List.copyOf(filters);
        if (offset < 0) {
            throw new IllegalArgumentException("offset must not be negative: " + offset);
        }
    }

    /** First second of the range, or null for all time. */
    Long since() {
        return range.length() == null ? null : now - (offset + 1L) * range.length().toSeconds();
    }

    /** End (exclusive) of the range, or null when it reaches the present. */
    Long until() {
        return range.length() == null || offset == 0 ? null : now - offset * range.length().toSeconds();
    }

    /** The database alone, as for a range in the past. */
    Page run(Connection c, Consumer<PreparedStatement> running, Annotator annotator) throws SQLException {
        return run(c, running, annotator, null);
    }

    /**
     * Reads one snapshot of the database and, when the range reaches the present and
     * {@code daemon} is given, adds the rows the daemon has that the snapshot does not.
     */
    Page run(Connection c, Consumer<PreparedStatement> running, Annotator annotator, Live.Source daemon)
            throws SQLException {
        if (!c.getAutoCommit()) {
            return snapshot(c, running, annotator, daemon); // the caller's transaction is the snapshot
        }
        // One read transaction: the newest stored row, the rows and the totals all come from
        // the same snapshot, so the daemon's rows start exactly where it ends.
        c.setAutoCommit(false);
        try {
            return snapshot(c, running, annotator, daemon);
        } finally {
            c.rollback();
            c.setAutoCommit(true);
        }
    }

    private Page snapshot(Connection c, Consumer<PreparedStatement> running, Annotator annotator, Live.Source daemon)
            throws SQLException {
        Live live = Live.NONE;
        if (daemon != null && until() == null) {
            live = daemon.after(newestStored(c, running), since());
        }
        return aggregate(c, running, annotator, live);
    }

    private Long newestStored(Connection c, Consumer<PreparedStatement> running) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT max(time) FROM flows")) {
            running.accept(ps);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getObject(1) != null ? rs.getLong(1) : null;
            }
        }
    }

    private Page aggregate(Connection c, Consumer<PreparedStatement> running, Annotator annotator, Live live)
            throws SQLException {
        List<FlowRow> extra = new ArrayList<>();
        Long since = since();
        for (FlowRow r : live.rows()) {
            if ((since == null || r.time().getEpochSecond() >= since) && filters.stream().allMatch(f -> f.matches(r))) {
                extra.add(r);
            }
        }
        History h = History.of(c, since(), dim, filters);
        long bucket = dim == Dimension.TIME ? bucketWidth(c, running, extra, h) : 0;
        List<Object> args = new ArrayList<>();
        String key = keyExpr(bucket, args);
        args.addAll(h.args());
        String where = where(args);
        String label = dim == Dimension.USER ? ", max(i.user)" : ", NULL";
        String order = dim == Dimension.TIME ? "k DESC" : "s + r DESC, k";
        String sql = "SELECT " + key + " AS k" + label + ", sum(f.sent) AS s, sum(f.recv) AS r" + h.from() + where
                + " GROUP BY k ORDER BY " + order + " LIMIT " + (MAX_ENTRIES + 1);
        List<Entry> entries = new ArrayList<>();
        long sent = 0, recv = 0;
        boolean truncated = false;
        try (PreparedStatement ps = prepare(c, sql, args)) {
            running.accept(ps);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (entries.size() == MAX_ENTRIES) {
                        truncated = true;
                        break;
                    }
                    Object k = rs.getObject(1);
                    if (k instanceof Integer n) {
                        k = n.longValue();
                    }
                    long s = rs.getLong(3), r = rs.getLong(4);
                    sent += s;
                    recv += r;
                    entries.add(new Entry(k, label(k, rs.getString(2), bucket), k == null, s, r, null));
                }
            }
        }
        if (truncated) {
            long[] sums = totals(c, running, h);
            sent = sums[0];
            recv = sums[1];
        }
        if (!extra.isEmpty()) {
            for (FlowRow r : extra) {
                sent += r.sent();
                recv += r.recv();
            }
            entries = merge(entries, extra, bucket);
            if (entries.size() > MAX_ENTRIES) {
                entries = entries.subList(0, MAX_ENTRIES);
                truncated = true;
            }
        }
        return new Page(this, annotate(entries, annotator), sent, recv, truncated, bucket, extra.size(), live.note(),
                h.keptFrom(), h.fromRollups());
    }

    /**
     * Adds the daemon's rows to the stored entries by this tab's key, then orders them as the
     * SQL does. Under truncation a key cut off from the stored list comes back with its live
     * bytes only; the heading already says the list is partial.
     */
    List<Entry> merge(List<Entry> stored, List<FlowRow> live, long bucket) {
        Map<Object, Entry> byKey = new LinkedHashMap<>();
        for (Entry e : stored) {
            byKey.put(e.key(), e);
        }
        for (FlowRow r : live) {
            Object k = dim == Dimension.TIME ? timeKey(r.time().getEpochSecond(), bucket) : dim.key(r);
            Entry e = byKey.get(k);
            if (e == null) {
                String user = r.id() == null ? null : r.id().user();
                byKey.put(k, new Entry(k, label(k, user, bucket), k == null, r.sent(), r.recv(), null));
            } else {
                byKey.put(k, new Entry(k, e.label(), e.missing(), e.sent() + r.sent(), e.recv() + r.recv(), e.note()));
            }
        }
        List<Entry> out = new ArrayList<>(byKey.values());
        Comparator<Entry> byKeyOrder = (a, b) -> sqlOrder(a.key(), b.key());
        out.sort(dim == Dimension.TIME ? byKeyOrder.reversed()
                : Comparator.comparingLong(Entry::total).reversed().thenComparing(byKeyOrder));
        return out;
    }

    /** The bucket {@link #keyExpr} puts a stored row of time {@code t} in. */
    long timeKey(long t, long bucket) {
        if (bucket <= 1) {
            return t;
        }
        long off = zone.getRules().getOffset(Instant.ofEpochSecond(now)).getTotalSeconds();
        return Math.floorDiv(t + off, bucket) * bucket - off;
    }

    /** SQLite's order of values: NULL, then integers, then text byte by byte in UTF-8 (code point order). */
    static int sqlOrder(Object a, Object b) {
        if (a == null || b == null) {
            return a == null ? (b == null ? 0 : -1) : 1;
        }
        if (a instanceof Long x) {
            return b instanceof Long y ? Long.compare(x, y) : -1;
        }
        if (b instanceof Long) {
            return 1;
        }
        String s = a.toString(), t = b.toString();
        int i = 0, j = 0;
        while (i < s.length() && j < t.length()) {
            int p = s.codePointAt(i), q = t.codePointAt(j);
            if (p != q) {
                return Integer.compare(p, q);
            }
            i += Character.charCount(p);
            j += Character.charCount(q);
        }
        return Integer.compare(s.length() - i, t.length() - j);
    }

    private String where(List<Object> args) {
        List<String> terms = new ArrayList<>();
        Long since = since(), until = until();
        if (since != null) {
            terms.add("f.time >= ?");
            args.add(since);
        }
        if (until != null) {
            terms.add("f.time < ?");
            args.add(until);
        }
        for (Filter f : filters) {
            terms.add(f.sql(args));
        }
        return terms.isEmpty() ? "" : " WHERE " + String.join(" AND ", terms);
    }

    private String keyExpr(long bucket, List<Object> args) {
        if (dim != Dimension.TIME) {
            return dim.column();
        }
        if (bucket == 1) {
            return "f.time";
        }
        // Buckets start on local boundaries (whole local hours and days): shift by the zone's
        // offset now. Across a daylight-saving change a day bucket is off by that hour.
        long off = zone.getRules().getOffset(Instant.ofEpochSecond(now)).getTotalSeconds();
        args.add(off);
        args.add(bucket);
        args.add(bucket);
        args.add(off);
        return "((f.time + ?) / ?) * ? - ?";
    }

    /**
     * Picks the time tab's row width so that the span shown has at most about 60 rows:
     * the range (narrowed by any time filter), or for all time the span of the data.
     */
    private long bucketWidth(Connection c, Consumer<PreparedStatement> running, List<FlowRow> live, History h)
            throws SQLException {
        Long since = since(), until = until();
        long lo = since == null ? Long.MIN_VALUE : since;
        long hi = until == null ? (since == null ? Long.MAX_VALUE : now) : until;
        for (Filter f : filters) {
            if (f.dim() == Dimension.TIME && !f.exclude()) {
                long start = (Long) f.key();
                lo = Math.max(lo, start);
                hi = Math.min(hi, start + f.width());
            }
        }
        if (lo == Long.MIN_VALUE || hi == Long.MAX_VALUE) {
            // All time: the span of the data, the daemon's rows included.
            long liveLo = Long.MAX_VALUE, liveHi = Long.MIN_VALUE;
            for (FlowRow r : live) {
                liveLo = Math.min(liveLo, r.time().getEpochSecond());
                liveHi = Math.max(liveHi, r.time().getEpochSecond() + 1);
            }
            List<Object> args = new ArrayList<>(h.args());
            String sql = "SELECT min(f.time), max(f.time)" + h.from() + where(args);
            try (PreparedStatement ps = prepare(c, sql, args)) {
                running.accept(ps);
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next() && rs.getObject(1) != null) {
                        lo = lo == Long.MIN_VALUE ? Math.min(rs.getLong(1), liveLo) : lo;
                        hi = hi == Long.MAX_VALUE ? Math.max(rs.getLong(2) + 1, liveHi) : hi;
                    } else if (!live.isEmpty()) {
                        lo = lo == Long.MIN_VALUE ? liveLo : lo;
                        hi = hi == Long.MAX_VALUE ? liveHi : hi;
                    } else {
                        return 86_400;
                    }
                }
            }
        }
        return Buckets.width(Math.max(1, hi - lo));
    }

    private long[] totals(Connection c, Consumer<PreparedStatement> running, History h) throws SQLException {
        List<Object> args = new ArrayList<>(h.args());
        String sql = "SELECT coalesce(sum(f.sent), 0), coalesce(sum(f.recv), 0)" + h.from() + where(args);
        try (PreparedStatement ps = prepare(c, sql, args)) {
            running.accept(ps);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getLong(2)};
            }
        }
    }

    private String label(Object k, String user, long bucket) {
        if (k == null) {
            return dim.nullLabel();
        }
        return switch (dim) {
            case USER -> user == null ? "uid " + k : user + " (" + k + ")";
            case TIME -> Buckets.format(bucket).format(Instant.ofEpochSecond((Long) k).atZone(zone));
            default -> k.toString();
        };
    }

    private List<Entry> annotate(List<Entry> entries, Annotator annotator) {
        Dimension.Annotation a = dim.annotation();
        if (a == Dimension.Annotation.NONE || entries.isEmpty()) {
            return entries;
        }
        Collection<String> keys = new LinkedHashSet<>();
        for (Entry e : entries) {
            if (e.key() instanceof String s) {
                keys.add(s);
            }
        }
        Map<String, String> notes;
        try {
            notes = a == Dimension.Annotation.VERDICT ? annotator.verdicts(keys) : annotator.countries(keys);
        } catch (RuntimeException e) {
            // A broken lookup must not hide the traffic; the column just stays empty.
            return entries;
        }
        if (notes.isEmpty()) {
            return entries;
        }
        List<Entry> out = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            out.add(e.key() instanceof String s && notes.get(s) != null ? e.withNote(notes.get(s)) : e);
        }
        return out;
    }

    private static PreparedStatement prepare(Connection c, String sql, List<Object> args) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        try {
            for (int i = 0; i < args.size(); i++) {
                ps.setObject(i + 1, args.get(i));
            }
        } catch (SQLException e) {
            ps.close();
            throw e;
        }
        return ps;
    }

    /** Time-tab row widths and how to print them. */
    static final class Buckets {
        private static final long[] WIDTHS = {1, 10, 60, 600, 3_600, 86_400};
        private static final DateTimeFormatter SECONDS = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
        private static final DateTimeFormatter MINUTES = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm");
        private static final DateTimeFormatter DAYS = DateTimeFormatter.ofPattern("yyyy-MM-dd");

        private Buckets() {
        }

        static long width(long span) {
            for (long w : WIDTHS) {
                if (span / w <= 60) {
                    return w;
                }
            }
            return WIDTHS[WIDTHS.length - 1];
        }

        static DateTimeFormatter format(long width) {
            return width < 60 ? SECONDS : width < 86_400 ? MINUTES : DAYS;
        }
    }
}

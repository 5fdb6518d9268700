package io.peekd.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Random;
import java.util.function.Predicate;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.Report.Dim;

/**
 * Rollups against the raw windows they summarise, and reports against a reference computed
 * here in Java from the very rows that were stored.
 */
class RollupReportTest {

    @TempDir
    Path dir;

    static final Instant BASE = Instant.parse("2026-01-10T00:00:00Z");

    /** A reproducible history over three days, with merges (same key twice) and unknown values. */
    static List<List<FlowRow>> history(long seed, int batches) {
        return history(seed, batches, 400);
    }

    /** As above, with batches {@code 1..maxGap} seconds apart. */
    static List<List<FlowRow>> history(long seed, int batches, int maxGap) {
        Random rnd = new Random(seed);
        String[][] exes = {
                {"/usr/bin/curl", "curl", "aa"}, {"/usr/lib/firefox/firefox", "firefox", "bb"},
                {"/usr/bin/ssh", "ssh", "cc"}, {"/usr/sbin/ntpd", "ntpd", "dd"}, {null, "kworker", null}};
        String[] users = {"root", "alice", null};
        int[] uids = {0, 1000, 1001};
        String[] domains = {"example.org", "www.example.org", "cdn.example.net", null, "a_b.test"};
        String[] raddrs = {"93.184.216.34", "2606:2800:220:1::1", "10.0.0.9", null};
        int[] rports = {443, 80, 22, -1};
        List<List<FlowRow>> out = new ArrayList<>();
        long t = BASE.getEpochSecond();
        for (int b = 0; b < batches; b++) {
            t += 1 + rnd.nextInt(maxGap); // 400: about 3 days over 1300 batches
            List<FlowRow> batch = new ArrayList<>();
            int n = 1 + rnd.nextInt(8);
            for (int i = 0; i < n; i++) {
                String[] e = exes[rnd.nextInt(exes.length)];
                int u = rnd.nextInt(users.length);
                Identity id = new Identity(e[0], e[1], e[1] + " --arg " + rnd.nextInt(3),
                        e[2] == null ? null : e[2].repeat(32), 100 + rnd.nextInt(5), "/usr/bin/bash", "bash", "-bash",
                        "ee".repeat(32), 1, uids[u], users[u], null, rnd.nextInt(4) == 0 ? "web" : null);
                FlowRow r = new FlowRow(Instant.ofEpochSecond(t), id, rnd.nextBoolean() ? "tcp" : "udp", 4,
                        "10.0.0.1", 40000 + rnd.nextInt(3), raddrs[rnd.nextInt(raddrs.length)],
                        rports[rnd.nextInt(rports.length)], domains[rnd.nextInt(domains.length)], "dns", "high",
                        rnd.nextInt(100_000), rnd.nextInt(1_000_000), rnd.nextInt(3));
                batch.add(r);
                if (rnd.nextInt(10) == 0) {
                    batch.add(r); // the same key again: stored as one row, the second via the update trigger
                }
            }
            out.add(batch);
        }
        return out;
    }

    static void store(Store s, List<List<FlowRow>> batches) throws InterruptedException {
        for (List<FlowRow> b : batches) {
            assertThat(s.writer().submit(b)).isTrue();
        }
        assertThat(s.writer().flush(Duration.ofMinutes(2))).isTrue();
    }

    /**
     * Creates {@code db} at schema {@code version} and copies the history of {@code current}
     * into it, ids included, through the old schema's own tables, views and triggers (which
     * fill what it derives: a schema-7 flows view its destinations, idents their rollup ids).
     */
    static void copyIntoOldSchema(Path current, Path db, int version) throws Exception {
        try (Connection c = Sqlite.openWriter(db, Duration.ofSeconds(5))) {
            Schema.migrate(c, db, Schema.MIGRATIONS.subList(0, version));
            try (Statement st = c.createStatement()) {
                st.execute("ATTACH DATABASE '" + current + "' AS cur");
                for (String t : List.of("exes", "idents", "flows")) {
                    List<String> cols = new ArrayList<>();
                    try (ResultSet rs = st.executeQuery("SELECT name FROM main.pragma_table_info('" + t + "')")) {
                        while (rs.next()) {
                            if (!List.of("dest_id", "rollup_id").contains(rs.getString(1))) cols.add(rs.getString(1));
                        }
                    }
                    String list = String.join(", ", cols);
                    st.execute("INSERT INTO main." + t + " (" + list + ") SELECT " + list + " FROM cur." + t);
                }
                st.execute("DETACH DATABASE cur");
            }
        }
    }

    static Connection raw(Path db) throws Exception {
        return DriverManager.getConnection("jdbc:sqlite:" + db);
    }

    @Test
    void rollupSumsEqualTheSumsOverRawRowsAtEveryLevel() throws Exception {
        Path db = dir.resolve("peekd.db");
        try (Store s = Store.open(db)) {
            store(s, history(1, 1300));
        }
        try (Connection c = raw(db); Statement st = c.createStatement()) {
            for (Rollups.Level l : Rollups.Level.values()) {
                String rawSums = "SELECT " + Rollups.bucket("f.time", l) + " AS b, sum(f.sent), sum(f.recv), sum(f.conns),"
                        + " count(*) FROM flows f GROUP BY b ORDER BY b";
                String rollupSums = "SELECT bucket, sum(sent), sum(recv), sum(conns), sum(windows) FROM " + l.table
                        + " GROUP BY bucket ORDER BY bucket";
                List<List<Long>> a = rows(st, rawSums), b = rows(st, rollupSums);
                assertThat(b).as(l.table).isEqualTo(a);
                if (l.identTable != null) {
                    assertThat(rows(st, rollupSums.replace(l.table, l.identTable))).as(l.identTable).isEqualTo(a);
                    // per identity as well
                    String perIdent = "SELECT bucket, rid, sum(sent), sum(recv), sum(conns), sum(windows) FROM %s"
                            + " GROUP BY 1, 2 ORDER BY 1, 2";
                    assertThat(rows(st, perIdent.formatted(l.identTable))).isEqualTo(rows(st, perIdent.formatted(l.table)));
                    assertThat(rows(st, perIdent.formatted(l.domainTable))).isEqualTo(rows(st, perIdent.formatted(l.table)));
                    String perDomain = "SELECT bucket || ' ' || rid || ' ' || domain || ' ' || sum(sent) || ' ' || sum(recv)"
                            + " || ' ' || sum(conns) || ' ' || sum(windows) FROM %s GROUP BY bucket, rid, domain"
                            + " ORDER BY bucket, rid, domain";
                    assertThat(texts(st, perDomain.formatted(l.domainTable))).isEqualTo(texts(st, perDomain.formatted(l.table)))
                            .isNotEmpty();
                }
                assertThat(a.size()).as(l.table + " buckets").isGreaterThan(l == Rollups.Level.DAY ? 2 : 10);
            }
            String week = Rollups.weekBucket("f.time");
            assertThat(rows(st, "SELECT bucket, sum(sent), sum(recv), sum(conns), sum(windows) FROM " + Rollups.WEEK_DOMAIN
                    + " GROUP BY bucket ORDER BY bucket")).as("weeks").isEqualTo(rows(st, "SELECT " + week
                    + " AS b, sum(f.sent), sum(f.recv), sum(f.conns), count(*) FROM flows f GROUP BY b ORDER BY b"));
            // Weeks start on Monday 00:00 UTC.
            assertThat(rows(st, "SELECT DISTINCT strftime('%w %H%M%S', bucket, 'unixepoch') = '1 000000' FROM "
                    + Rollups.WEEK_DOMAIN)).containsExactly(List.of(1L));
            // Per identity and destination too, not only per bucket.
            List<List<Long>> byKey = rows(st, "SELECT i.rollup_id, sum(f.sent), sum(f.recv) FROM flows f"
                    + " JOIN idents i ON i.id = f.ident_id GROUP BY 1 ORDER BY 1");
            assertThat(rows(st, "SELECT rid, sum(sent), sum(recv) FROM rollup_day GROUP BY 1 ORDER BY 1")).isEqualTo(byKey);
            assertThat(one(st, "SELECT count(*) FROM idents WHERE rollup_id IS NULL")).isZero();
        }
    }

    @Test
    void aDatabaseWithHistoryGetsItsRollupsWhenUpgraded() throws Exception {
        Path db = dir.resolve("peekd.db");
        List<List<FlowRow>> h = history(2, 200);
        // Stored by a peekd from before rollups (schema 5), then upgraded by this one. This
        // writer only knows the current tables, so the rows are written there and copied into
        // the old file column by column, ids included.
        Path current = dir.resolve("current.db");
        try (Store s = Store.open(current)) {
            store(s, h);
        }
        copyIntoOldSchema(current, db, 5);
        try (Store s = Store.open(db); Reader r = s.reader()) {
            Report.Result got = r.report(spec(BASE, BASE.plus(Duration.ofDays(5)), List.of(Dim.EXE, Dim.DOMAIN)));
            assertThat(got.rows()).isEqualTo(reference(flatten(h), BASE, BASE.plus(Duration.ofDays(5)),
                    List.of(Dim.EXE, Dim.DOMAIN), x -> true));
            assertThat(got.sources()).extracting(Report.Source::table).contains("rollup_day");
        }
    }

    @Test
    void reportsEqualTheReferenceForUnalignedRangesAndEveryDimension() throws Exception {
        Path db = dir.resolve("peekd.db");
        List<List<FlowRow>> h = history(3, 1300);
        List<FlowRow> rows = flatten(h);
        Random rnd = new Random(99);
        try (Store s = Store.open(db)) {
            store(s, h);
            try (Reader r = s.reader()) {
                List<List<Dim>> bys = List.of(List.of(Dim.EXE), List.of(Dim.DOMAIN), List.of(Dim.NAME, Dim.USER),
                        List.of(Dim.RADDR, Dim.RPORT), List.of(Dim.SHA256, Dim.PARENT, Dim.CONTAINER),
                        List.of(Dim.LPORT), List.of(Dim.COUNTRY, Dim.ASN, Dim.EXE));
                for (int i = 0; i < 12; i++) {
                    Instant from = BASE.plusSeconds(rnd.nextInt(86_400 * 2)).plusMillis(rnd.nextInt(1000));
                    Instant to = from.plusSeconds(rnd.nextInt(86_400 * 2));
                    List<Dim> by = bys.get(i % bys.size());
                    Report.Result got = r.report(spec(from, to, by));
                    assertThat(got.rows()).as("%s from %s to %s", by, from, to)
                            .isEqualTo(reference(rows, from, to, by, x -> true));
                    assertThat(got.notes()).isEmpty();
                    long sent = rows.stream().filter(x -> in(x, from, to)).mapToLong(FlowRow::sent).sum();
                    assertThat(got.totals().sent()).isEqualTo(sent);
                }
                // A range of whole days and more is answered mostly by the day rollups.
                Report.Result wide = r.report(spec(BASE.minusSeconds(3_667), BASE.plus(Duration.ofDays(4)), List.of(Dim.EXE)));
                assertThat(wide.sources()).extracting(Report.Source::table)
                        .containsExactly("flows", "rollup_minute", "rollup_hour", "rollup_day");
                assertThat(wide.sources().get(3).length()).isEqualTo(Duration.ofDays(4));
            }
        }
    }

    @Test
    void domainReportsOverWeeksReadTheWeekRollupsAndStayExact() throws Exception {
        Path db = dir.resolve("peekd.db");
        List<List<FlowRow>> h = history(6, 900, 4000); // about three weeks
        List<FlowRow> rows = flatten(h);
        Random rnd = new Random(7);
        try (Store s = Store.open(db)) {
            store(s, h);
            try (Reader r = s.reader()) {
                for (int i = 0; i < 6; i++) {
                    Instant from = BASE.plusSeconds(rnd.nextInt(86_400 * 3)).plusMillis(rnd.nextInt(1000));
                    Instant to = from.plus(Duration.ofDays(14)).plusSeconds(rnd.nextInt(86_400 * 3));
                    List<Dim> by = i % 2 == 0 ? List.of(Dim.DOMAIN) : List.of(Dim.EXE, Dim.DOMAIN);
                    Report.Result got = r.report(spec(from, to, by));
                    assertThat(got.rows()).as("%s from %s to %s", by, from, to)
                            .isEqualTo(reference(rows, from, to, by, x -> true));
                    assertThat(got.sources()).extracting(Report.Source::table).contains(Rollups.WEEK_DOMAIN);
                }
                // A report that needs addresses cannot use them, and still adds up.
                Instant from = BASE.plusSeconds(999), to = BASE.plus(Duration.ofDays(19));
                Report.Result raddr = r.report(spec(from, to, List.of(Dim.RADDR)));
                assertThat(raddr.sources()).extracting(Report.Source::table).doesNotContain(Rollups.WEEK_DOMAIN);
                assertThat(raddr.rows()).isEqualTo(reference(rows, from, to, List.of(Dim.RADDR), x -> true));
            }
        }
    }

    @Test
    void filtersWhereTopAndTheUidRestriction() throws Exception {
        Path db = dir.resolve("peekd.db");
        List<List<FlowRow>> h = history(4, 600);
        List<FlowRow> rows = flatten(h);
        Instant from = BASE.plusSeconds(1234), to = BASE.plus(Duration.ofHours(40));
        try (Store s = Store.open(db)) {
            store(s, h);
            try (Reader r = s.reader()) {
                Report.Filters f = new Report.Filters(null, null, "example.org", "alice", null);
                Report.Result got = r.report(new Report.Spec(from, to, List.of(Dim.DOMAIN, Dim.EXE), f, null, 0,
                        OptionalInt.empty()));
                assertThat(got.rows()).isEqualTo(reference(rows, from, to, List.of(Dim.DOMAIN, Dim.EXE),
                        x -> Objects.equals(x.id().user(), "alice") && x.domain() != null
                                && (x.domain().equals("example.org") || x.domain().endsWith(".example.org"))));
                assertThat(got.rows()).extracting(x -> x.keys().get(0)).containsOnly("example.org", "www.example.org");

                // by uid number, for a user without a name
                Report.Filters byUid = new Report.Filters(null, null, null, "1001", null);
                assertThat(r.report(new Report.Spec(from, to, List.of(Dim.USER), byUid, null, 0, OptionalInt.empty())).rows())
                        .extracting(x -> x.keys().getFirst()).containsExactly("1001");

                Where w = Where.parse("(domain ~ '*example*' or rport in (22, 80)) and not exe = /usr/bin/ssh");
                got = r.report(new Report.Spec(from, to, List.of(Dim.EXE, Dim.RPORT), Report.Filters.none(), w, 3,
                        OptionalInt.empty()));
                List<Report.Row> all = reference(rows, from, to, List.of(Dim.EXE, Dim.RPORT),
                        x -> (x.domain() != null && x.domain().contains("example") || x.rport() == 22 || x.rport() == 80)
                                && !Objects.equals(x.id().exe(), "/usr/bin/ssh"));
                assertThat(got.rows()).isEqualTo(all.subList(0, 3));
                assertThat(got.groups()).isEqualTo(all.size());
                assertThat(got.totals().recv()).isEqualTo(all.stream().mapToLong(Report.Row::recv).sum());

                // a raw-only field in --where makes the raw table answer
                Where lp = Where.parse("lport != 40001 and cmdline like '%--arg 1'");
                got = r.report(new Report.Spec(from, to, List.of(Dim.NAME), Report.Filters.none(), lp, 0, OptionalInt.empty()));
                assertThat(got.sources()).extracting(Report.Source::table).containsExactly("flows");
                assertThat(got.rows()).isEqualTo(reference(rows, from, to, List.of(Dim.NAME),
                        x -> x.lport() != 40001 && x.id().cmdline().endsWith("--arg 1")));

                // someone who may only see uid 1000 cannot widen the report with --where
                Where sneaky = Where.parse("uid = 0 or uid != 0");
                got = r.report(new Report.Spec(from, to, List.of(Dim.USER), Report.Filters.none(), sneaky, 0,
                        OptionalInt.of(1000)));
                assertThat(got.rows()).extracting(x -> x.keys().getFirst()).containsExactly("alice");
            }
        }
    }

    @Test
    void retentionKeepsReportsExactFromTheCoarserTables() throws Exception {
        Path db = dir.resolve("peekd.db");
        List<List<FlowRow>> h = history(5, 1300);
        List<FlowRow> rows = flatten(h);
        Instant end = rows.getLast().time();
        try (Store s = Store.open(db)) {
            store(s, h);
            // "now" is 2 days after the start: raw keeps 1 day, minutes 1 day, hours 2 days.
            Instant now = BASE.plus(Duration.ofDays(2)).plusSeconds(4321);
            Retention.Summary sum = Retention.run(s, new Retention.Policy(1, 1, 2, 3650), now);
            assertThat(sum.deleted().get("flows")).isPositive();
            assertThat(sum.cutoffs().get("flows")).isEqualTo(Instant.parse("2026-01-11T01:12:00Z"));
            assertThat(sum.cutoffs().get("rollup_minute")).isEqualTo(Instant.parse("2026-01-11T01:00:00Z"));
            assertThat(sum.cutoffs().get("rollup_hour")).isEqualTo(Instant.parse("2026-01-10T00:00:00Z"));
            try (Reader r = s.reader()) {
                DbStats st = r.tableStats();
                assertThat(st.table("flows").oldest()).isAfterOrEqualTo(sum.cutoffs().get("flows"));
                // A range reaching back before the raw cutoff: rounded to what the rollups can answer.
                Instant from = BASE.plusSeconds(3 * 3600 + 17), to = end.plusSeconds(1);
                Report.Result got = r.report(spec(from, to, List.of(Dim.EXE, Dim.DOMAIN)));
                assertThat(got.from()).isEqualTo(BASE.plusSeconds(4 * 3600));
                assertThat(got.to()).isEqualTo(to);
                assertThat(got.notes()).singleElement().asString().contains("rollup_hour");
                assertThat(got.rows()).isEqualTo(reference(rows, got.from(), to, List.of(Dim.EXE, Dim.DOMAIN), x -> true));
                // lport needs raw windows, which start at the cutoff now
                Report.Result lp = r.report(spec(from, to, List.of(Dim.LPORT)));
                assertThat(lp.from()).isEqualTo(sum.cutoffs().get("flows"));
                assertThat(lp.rows()).isEqualTo(reference(rows, lp.from(), to, List.of(Dim.LPORT), x -> true));
            }
            // Retention never moves a cutoff back, even when it is made longer.
            Retention.Summary again = Retention.run(s, new Retention.Policy(30, 30, 30, 3650), now);
            assertThat(again.cutoffs()).isEqualTo(sum.cutoffs());
            assertThat(again.total()).isZero();
        }
    }

    @Test
    void whereRejectsWhatIsNotACondition() {
        for (String bad : List.of("", "exe", "exe =", "exe = 'x", "1 = 1", "exe = x) or (1", "sent > 5",
                "rport = abc", "exe = x and", "rport ~ 4*", "exe = x; DROP TABLE flows", "((((exe = x")) {
            assertThatThrownBy(() -> Where.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
        Where w = Where.parse("name = 'it''s' AND (rport >= 1 OR domain <> \"\")");
        List<Object> args = new ArrayList<>();
        assertThat(w.sql(f -> f.key(), args)).isEqualTo("((name = ?) AND ((rport >= ?) OR (domain != ?)))");
        assertThat(args).containsExactly("it's", 1L, "");
    }

    // ---- reference ----------------------------------------------------------------------------------

    static Report.Spec spec(Instant from, Instant to, List<Dim> by) {
        return new Report.Spec(from, to, by, Report.Filters.none(), null, 0, OptionalInt.empty());
    }

    static List<FlowRow> flatten(List<List<FlowRow>> h) {
        return h.stream().flatMap(List::stream).toList();
    }

    static boolean in(FlowRow r, Instant from, Instant to) {
        long a = from.getEpochSecond() + (from.getNano() > 0 ? 1 : 0), b = to.getEpochSecond() + (to.getNano() > 0 ? 1 : 0);
        long t = r.time().getEpochSecond();
        return t >= a && t < b;
    }

    static Object key(FlowRow r, Dim d) {
        Identity id = r.id();
        Object v = switch (d) {
            case EXE -> id.exe();
            case NAME -> id.name();
            case SHA256 -> id.sha256();
            case PARENT -> id.pexe();
            case USER -> id.user() == null || id.user().isEmpty() ? Integer.toString(id.uid()) : id.user();
            case DOMAIN -> r.domain();
            case RADDR -> r.raddr();
            case RPORT -> r.rport() < 0 ? null : (Object) (long) r.rport();
            case LPORT -> r.lport() < 0 ? null : (Object) (long) r.lport();
            case CONTAINER -> id.container();
            case COUNTRY, ASN -> null;
        };
        return "".equals(v) ? null : v;
    }

    /** Groups, largest total first, ties by the keys ascending with nulls first, as SQLite orders them. */
    static List<Report.Row> reference(List<FlowRow> rows, Instant from, Instant to, List<Dim> by, Predicate<FlowRow> keep) {
        Map<List<Object>, long[]> m = new LinkedHashMap<>();
        for (FlowRow r : rows) {
            if (!in(r, from, to) || !keep.test(r)) {
                continue;
            }
            List<Object> k = new ArrayList<>();
            for (Dim d : by) {
                k.add(key(r, d));
            }
            long[] s = m.computeIfAbsent(k, x -> new long[3]);
            s[0] += r.sent();
            s[1] += r.recv();
            s[2] += r.conns();
        }
        Comparator<Report.Row> order = Comparator.comparingLong(Report.Row::total).reversed();
        for (int i = 0; i < by.size(); i++) {
            int j = i;
            order = order.thenComparing(x -> x.keys().get(j), RollupReportTest::compareKeys);
        }
        List<Report.Row> out = new ArrayList<>();
        m.forEach((k, s) -> out.add(new Report.Row(k, s[0], s[1], s[2])));
        out.sort(order);
        return out;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static int compareKeys(Object a, Object b) {
        if (a == null || b == null) {
            return a == null ? (b == null ? 0 : -1) : 1;
        }
        return ((Comparable) a).compareTo(b);
    }

    private static List<List<Long>> rows(Statement st, String sql) throws Exception {
        List<List<Long>> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                Long[] r = new Long[n];
                for (int i = 0; i < n; i++) {
                    r[i] = rs.getLong(i + 1);
                }
                out.add(Arrays.asList(r));
            }
        }
        return out;
    }

    private static List<String> texts(Statement st, String sql) throws Exception {
        List<String> out = new ArrayList<>();
        try (ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static long one(Statement st, String sql) throws Exception {
        try (ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }
}

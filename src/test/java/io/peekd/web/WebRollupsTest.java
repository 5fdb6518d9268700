package io.peekd.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.Store;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every view that reads rollups against the same view over the raw windows only, on one
 * real database, for ranges with and without whole days and hours and with filters the
 * rollups can and cannot answer. Sums, counts and lists must be equal; first and last seen
 * may only be rounded down to the start of the hour or day that answered.
 */
class WebRollupsTest {

    @TempDir
    static Path dir;

    static Db db;
    static Views rollups, raw;
    static final Instant BASE = Instant.parse("2026-03-02T00:00:00Z");

    @BeforeAll
    static void create() throws Exception {
        Path file = dir.resolve("peekd.db");
        store(file, history());
        db = new Db(file, 2);
        rollups = new Views(db, true);
        raw = new Views(db, false);
    }

    static void store(Path file, List<FlowRow> rows) throws Exception {
        try (Store s = Store.open(file)) {
            for (int i = 0; i < rows.size(); i += 50) {
                assertThat(s.writer().submit(rows.subList(i, Math.min(rows.size(), i + 50)))).isTrue();
            }
            assertThat(s.writer().flush(Duration.ofMinutes(2))).isTrue();
        }
    }

    static List<FlowRow> history() {
        Random rnd = new Random(7);
        List<Identity> ids = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            ids.add(TestDb.id("/usr/bin/app-" + i / 2, "app-" + i / 2, "app --n " + i, String.format("%02x", i / 2),
                    3000 + i, "/usr/bin/parent-" + i % 3, "parent-" + i % 3, 1000 + i % 2, "user" + i % 2,
                    i % 5 == 0 ? "ct" : null));
        }
        // Another command line of the first: a second idents row behind the same rollup identity.
        ids.add(TestDb.id("/usr/bin/app-0", "app-0", "app --other", "00", 3000, "/usr/bin/parent-0", "parent-0", 1000,
                "user0", "ct"));
        // No '' domain: the rollups keep unknown values as '' and read them back as null.
        String[] domains = {"a.example", "b.example", null};
        List<FlowRow> rows = new ArrayList<>();
        long t = BASE.getEpochSecond();
        for (int i = 0; i < 4000; i++) {
            t += 1 + rnd.nextInt(120); // about 2.8 days
            Identity id = ids.get(rnd.nextInt(ids.size()));
            int remote = rnd.nextInt(40);
            String raddr = remote == 39 ? null : remote % 7 == 0 ? "2001:db8::" + remote : "198.51.100." + remote;
            int rport = remote == 39 ? -1 : new int[] {443, 80, 53, 22}[remote % 4];
            FlowRow r = new FlowRow(Instant.ofEpochSecond(t), id, remote % 4 == 2 ? "udp" : "tcp",
                    raddr != null && raddr.contains(":") ? 6 : 4, "10.0.0.2", 40000 + rnd.nextInt(4), raddr, rport,
                    domains[remote % domains.length], "dns", "high", rnd.nextInt(100_000), rnd.nextInt(1_000_000),
                    rnd.nextInt(3));
            rows.add(r);
            // The same window stored twice: a merge into the stored row.
            if (rnd.nextInt(15) == 0) rows.add(r);
        }
        // Three weeks more, sparser, after the first three days: whole weeks for the week tables.
        Random more = new Random(8);
        t = BASE.plus(Duration.ofDays(3)).getEpochSecond();
        for (int i = 0; i < 700; i++) {
            t += 1 + more.nextInt(5400);
            int remote = more.nextInt(40);
            rows.add(new FlowRow(Instant.ofEpochSecond(t), ids.get(more.nextInt(ids.size())), "tcp", 4, "10.0.0.2",
                    40000, "198.51.100." + remote, 443, domains[remote % domains.length], "dns", "high",
                    more.nextInt(100_000), more.nextInt(1_000_000), 1));
        }
        return rows;
    }

    @AfterAll
    static void close() {
        db.close();
    }

    /** Whole days with hours and seconds at both edges; hours only; less than two hours (raw only). */
    static final List<Filter> RANGES = List.of(
            range(BASE.plusSeconds(3 * 3600 + 17), BASE.plus(Duration.ofDays(2)).plusSeconds(5 * 3600 + 3)),
            range(BASE, BASE.plus(Duration.ofDays(3))),
            range(BASE.plusSeconds(86_400 + 600), BASE.plusSeconds(86_400 + 9 * 3600 + 59)),
            range(BASE.plusSeconds(7000), BASE.plusSeconds(7000 + 5400)),
            // Two whole weeks (from Monday 9 March) with days, hours and seconds on both sides.
            range(BASE.plusSeconds(86_400 + 5 * 3600 + 17), BASE.plus(Duration.ofDays(23)).plusSeconds(7 * 3600 + 3)));

    static Filter range(Instant from, Instant to) {
        return new Filter(from.getEpochSecond(), to.getEpochSecond(), Map.of());
    }

    static Filter with(Filter f, Dim d, String... values) {
        Map<Dim, List<String>> eq = new EnumMap<>(Dim.class);
        eq.putAll(f.eq());
        eq.put(d, List.of(values));
        return new Filter(f.from(), f.to(), eq);
    }

    /** Filters per destination (the per-destination rollups), per identity, and on raw-only fields. */
    static final List<UnaryOperator<Filter>> FILTERS = List.of(f -> f, f -> with(f, Dim.RPORT, "443", "22"),
            f -> with(f, Dim.DOMAIN, ""), f -> with(f, Dim.DOMAIN, "a.example", "b.example"), f -> with(f, Dim.FAMILY, "6"),
            f -> with(f, Dim.EXE, "/usr/bin/app-2"), f -> with(f, Dim.LPORT, "40001"), f -> with(f, Dim.PID, "3004"));

    static void rounded(long got, long want, String what) {
        assertThat(got).as(what).isLessThanOrEqualTo(want).isGreaterThan(want - 86_400);
    }

    @Test
    void summariesAreEqual() {
        for (Filter r : RANGES) {
            for (UnaryOperator<Filter> fo : FILTERS) {
                Filter f = fo.apply(r);
                Views.Summary a = rollups.summary(f), b = raw.summary(f);
                assertThat(List.of(a.sent(), a.recv(), a.conns(), a.rows(), a.processes(), a.remotes())).as("%s", f)
                        .isEqualTo(List.of(b.sent(), b.recv(), b.conns(), b.rows(), b.processes(), b.remotes()));
                if (b.first() != null) rounded(a.first(), b.first(), "first " + f);
            }
        }
        assertThat(raw.summary(RANGES.getFirst()).remotes()).isGreaterThan(30);
    }

    @Test
    void groupsByDestinationAndIdentityAreEqual() {
        List<List<Dim>> bys = List.of(List.of(Dim.RPORT), List.of(Dim.RADDR), List.of(Dim.DOMAIN),
                List.of(Dim.PROTO, Dim.FAMILY), List.of(Dim.RPORT, Dim.DOMAIN), List.of(Dim.EXE), List.of(Dim.EXE, Dim.RPORT));
        for (Filter r : RANGES) {
            for (UnaryOperator<Filter> fo : FILTERS) {
                Filter f = fo.apply(r);
                for (List<Dim> by : bys) {
                    for (Views.Order o : List.of(Views.Order.TOTAL, Views.Order.CONNS)) {
                        List<Views.Group> a = rollups.groups(f, by, o, 1000), b = raw.groups(f, by, o, 1000);
                        assertThat(a).as("%s by %s", f, by).hasSameSizeAs(b);
                        for (int i = 0; i < a.size(); i++) {
                            Views.Group x = a.get(i), y = b.get(i);
                            assertThat(List.of(x.key(), x.sent(), x.recv(), x.conns(), x.rows())).as("%s by %s", f, by)
                                    .isEqualTo(List.of(y.key(), y.sent(), y.recv(), y.conns(), y.rows()));
                            rounded(x.first(), y.first(), "first");
                            rounded(x.last(), y.last(), "last");
                        }
                    }
                }
            }
        }
        // A limit takes the same top groups.
        assertThat(rollups.groups(RANGES.getFirst(), List.of(Dim.RADDR), Views.Order.TOTAL, 5).stream().map(Views.Group::key))
                .isEqualTo(raw.groups(RANGES.getFirst(), List.of(Dim.RADDR), Views.Order.TOTAL, 5).stream().map(Views.Group::key).toList());
    }

    @Test
    void destinationsAndTheirProcessesAreEqual() {
        for (Filter r : RANGES) {
            for (UnaryOperator<Filter> fo : FILTERS) {
                Filter f = fo.apply(r);
                for (int limit : List.of(1000, 7)) {
                    int per = limit == 7 ? 2 : 1000;
                    List<Views.Destination> a = rollups.destinations(f, limit, per), b = raw.destinations(f, limit, per);
                    assertThat(a).as("%s", f).hasSameSizeAs(b);
                    for (int i = 0; i < a.size(); i++) {
                        Views.Destination x = a.get(i), y = b.get(i);
                        assertThat(List.of(String.valueOf(x.raddr()), String.valueOf(x.domain()), x.ports(), x.protos(),
                                x.sent(), x.recv(), x.conns())).as("%s", f).isEqualTo(List.of(String.valueOf(y.raddr()),
                                String.valueOf(y.domain()), y.ports(), y.protos(), y.sent(), y.recv(), y.conns()));
                        assertThat(x.processes()).as("processes of %s in %s", y.raddr(), f).isEqualTo(y.processes());
                        assertThat(x.processCount()).isEqualTo(y.processCount());
                        assertThat(x.more()).isEqualTo(y.more());
                        // What is listed and what is summed as "more" add up to the destination.
                        long ps = x.more() == null ? 0 : x.more().sent();
                        for (Views.PerProcess p : x.processes()) ps += p.sent();
                        assertThat(ps).isEqualTo(x.sent());
                        assertThat(x.processes()).hasSize(Math.min(per, x.processCount()));
                        rounded(x.first(), y.first(), "first");
                        rounded(x.last(), y.last(), "last");
                    }
                }
            }
        }
        Views.Destination top = raw.destinations(RANGES.get(1), 1, 1000).getFirst();
        assertThat(top.processes()).hasSizeGreaterThan(2);
        Views.Destination capped = raw.destinations(RANGES.get(1), 1, 2).getFirst();
        assertThat(capped.processes()).isEqualTo(top.processes().subList(0, 2));
        assertThat(capped.more()).isNotNull();
        assertThat(capped.processCount()).isEqualTo(top.processes().size());
    }

    /**
     * Series by process dimensions come from the per-identity rollups, ranked and summed per
     * rollup identity; by a destination column from the general path. Buckets of hours, of
     * three hours and of UTC days, in UTC and an hour east of it (local hours are whole UTC
     * hours there, local days are not UTC days), with few series (most rows in "other") and many.
     */
    @Test
    void timeseriesAreEqual() {
        List<Dim> bys = java.util.Arrays.asList(null, Dim.EXE, Dim.NAME, Dim.UID, Dim.USER, Dim.CONTAINER, Dim.RPORT);
        int compared = 0;
        for (Filter r : RANGES) {
            for (UnaryOperator<Filter> fo : FILTERS) {
                Filter f = fo.apply(r);
                for (Dim by : bys) {
                    for (long bucket : List.of(3600L, 10_800L, 86_400L)) {
                        for (String zone : List.of("UTC", "+01:00")) {
                            for (int series : bucket == 3600 ? List.of(2, 30) : List.of(2)) {
                                java.time.ZoneId z = java.time.ZoneId.of(zone);
                                String what = f + " by " + by + " bucket " + bucket + " " + zone + " series " + series;
                                Views.Timeseries a = rollups.timeseries(f, by, bucket, series, z);
                                Views.Timeseries b = raw.timeseries(f, by, bucket, series, z);
                                assertThat(a.times()).as(what).isEqualTo(b.times());
                                assertThat(a.series()).as(what).hasSameSizeAs(b.series());
                                for (int i = 0; i < a.series().size(); i++) {
                                    Views.Series x = a.series().get(i), y = b.series().get(i);
                                    assertThat(x.key()).as(what).isEqualTo(y.key());
                                    assertThat(x.sent()).as("sent of %s, %s", x.key(), what).isEqualTo(y.sent());
                                    assertThat(x.recv()).as("recv of %s, %s", x.key(), what).isEqualTo(y.recv());
                                    assertThat(x.total()).as(what).isEqualTo(y.total());
                                }
                                compared += b.series().size();
                            }
                        }
                    }
                }
            }
        }
        assertThat(compared).isGreaterThan(1000);
        // "other" is there and is not empty where only two of six programs are shown.
        Views.Series other = rollups.timeseries(RANGES.getFirst(), Dim.EXE, 3600, 2, java.time.ZoneOffset.UTC).series().getLast();
        assertThat(other.key()).isNull();
        assertThat(other.total()).isPositive();
    }

    /**
     * A range that ends after the last stored window, as every range ending now does, is
     * answered with open-ended days and weeks; first and last seen of its last day are then
     * worked out again to the hour, or to the second in its last partial hour, as the raw
     * windows give them. Two weeks and a day, and the last 24 hours.
     */
    @Test
    void destinationsOfRangesEndingAfterTheLastWindowAreEqual() {
        long newest = history().stream().mapToLong(r -> r.time().getEpochSecond()).max().orElseThrow();
        int refined = 0;
        // Ending just after the last window (its hour partly raw), and two hours later (all whole hours).
        for (long end : List.of(newest + 1, newest + 7200))
        for (long span : List.of(15 * 86_400L + 7 * 3600 + 17, 86_400L)) {
            long lastDay = Math.floorDiv(end, 86_400) * 86_400, lastHour = Math.floorDiv(end, 3600) * 3600;
            Filter f = new Filter(end - span, end, Map.of());
            for (UnaryOperator<Filter> fo : FILTERS) {
                Filter g = fo.apply(f);
                List<Views.Destination> a = rollups.destinations(g, 1000, 3), b = raw.destinations(g, 1000, 3);
                assertThat(a).as("%s", g).hasSameSizeAs(b);
                for (int i = 0; i < a.size(); i++) {
                    Views.Destination x = a.get(i), y = b.get(i);
                    assertThat(List.of(String.valueOf(x.raddr()), String.valueOf(x.domain()), x.ports(), x.sent(),
                            x.recv(), x.conns(), x.processes(), x.processCount(), String.valueOf(x.more()))).as("%s", g)
                            .isEqualTo(List.of(String.valueOf(y.raddr()), String.valueOf(y.domain()), y.ports(), y.sent(),
                                    y.recv(), y.conns(), y.processes(), y.processCount(), String.valueOf(y.more())));
                    rounded(x.first(), y.first(), "first");
                    rounded(x.last(), y.last(), "last");
                    // Filters on more than the destination read other tables, which round otherwise.
                    if (!Views.DEST.containsAll(g.eq().keySet())) continue;
                    if (y.last() >= lastDay) {
                        assertThat(x.last()).as("last of %s", y.raddr())
                                .isEqualTo(y.last() >= lastHour ? y.last() : Math.floorDiv(y.last(), 3600) * 3600);
                        refined++;
                    }
                    if (y.first() >= lastDay) {
                        assertThat(x.first()).as("first of %s", y.raddr())
                                .isEqualTo(y.first() >= lastHour ? y.first() : Math.floorDiv(y.first(), 3600) * 3600);
                    }
                }
            }
        }
        assertThat(refined).isGreaterThan(40);
        for (UnaryOperator<Filter> fo : FILTERS) {
            Filter g = fo.apply(new Filter(newest + 1 - 15 * 86_400L, newest + 1, Map.of()));
            Views.Summary a = rollups.summary(g), b = raw.summary(g);
            assertThat(List.of(a.sent(), a.remotes(), a.processes())).as("%s", g)
                    .isEqualTo(List.of(b.sent(), b.remotes(), b.processes()));
        }
    }

    /**
     * No window after a range's end does not mean nothing was stored after it when retention
     * deleted the windows: the rollups still have them, and days must not run open.
     */
    @Test
    void daysDoNotRunOpenWhenRetentionDeletedTheWindowsAfterTheRange(@TempDir Path other) throws Exception {
        Path file = other.resolve("peekd.db");
        store(file, history());
        try (Store s = Store.open(file)) {
            io.peekd.store.Retention.run(s, new io.peekd.store.Retention.Policy(1, 100, 100, 100),
                    BASE.plus(Duration.ofDays(60)));
        }
        // Whole hours and days only: the rollups answer all of it, before retention and after.
        Filter f = range(BASE.plusSeconds(2 * 86_400 + 5 * 3600), BASE.plus(Duration.ofDays(10)));
        try (Db d = new Db(file, 2)) {
            Views pruned = new Views(d, true);
            assertThat(new Views(d, false).summary(f).rows()).as("no raw window left").isZero();
            assertThat(pruned.summary(f).rows()).as("windows the rollups stand for").isEqualTo(rollups.summary(f).rows());
            List<Views.Destination> a = pruned.destinations(f, 1000, 3), b = rollups.destinations(f, 1000, 3);
            assertThat(a).hasSameSizeAs(b).isNotEmpty();
            for (int i = 0; i < a.size(); i++) {
                assertThat(List.of(String.valueOf(a.get(i).raddr()), a.get(i).sent(), a.get(i).recv(), a.get(i).conns()))
                        .isEqualTo(List.of(String.valueOf(b.get(i).raddr()), b.get(i).sent(), b.get(i).recv(), b.get(i).conns()));
            }
            assertThat(pruned.summary(f).remotes()).isEqualTo(rollups.summary(f).remotes());
        }
    }

    /**
     * Retention deletes the raw windows long before the rollups. Views by process must still
     * show the programs that moved the older traffic: summed and named as before the windows
     * went, for ranges the rollups answer alone (whole UTC days).
     */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(booleans = {false, true})
    void processViewsKeepTheirTrafficAfterRetentionDeletedTheWindows(boolean olderPeekdPruned, @TempDir Path other)
            throws Exception {
        Path file = other.resolve("peekd.db");
        store(file, history());
        try (Store s = Store.open(file)) {
            io.peekd.store.Retention.run(s, new io.peekd.store.Retention.Policy(1, 100, 100, 100),
                    BASE.plus(Duration.ofDays(60)));
        }
        if (olderPeekdPruned) {
            // Schema 10's retention took every idents row with its windows; step 11 names them again.
            try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:" + file);
                 java.sql.Statement st = c.createStatement()) {
                assertThat(st.executeUpdate("DELETE FROM idents")).isPositive();
                st.execute("PRAGMA user_version = 10");
            }
            Store.open(file).close();
        }
        List<Filter> ranges = List.of(range(BASE, BASE.plus(Duration.ofDays(3))),
                range(BASE.plus(Duration.ofDays(1)), BASE.plus(Duration.ofDays(22))));
        try (Db d = new Db(file, 2)) {
            Views pruned = new Views(d, true);
            for (Filter r : ranges) {
                for (Filter f : List.of(r, with(r, Dim.EXE, "/usr/bin/app-2"), with(r, Dim.USER, "user1"))) {
                    assertThat(new Views(d, false).summary(f).rows()).as("no raw window left").isZero();
                    // The connection list says where the windows it lists begin; the unpruned database has them all.
                    assertThat(pruned.keptFrom(f)).isEqualTo(BASE.plus(Duration.ofDays(59)).getEpochSecond());
                    assertThat(rollups.keptFrom(f)).isNull();
                    Views.Summary a = pruned.summary(f), b = rollups.summary(f);
                    assertThat(List.of(a.sent(), a.recv(), a.conns(), a.rows(), a.processes())).as("%s", f)
                            .isEqualTo(List.of(b.sent(), b.recv(), b.conns(), b.rows(), b.processes()));
                    assertThat(a.sent()).isPositive();
                    for (List<Dim> by : List.of(List.of(Dim.EXE), List.of(Dim.NAME, Dim.USER), List.of(Dim.PEXE, Dim.RPORT))) {
                        assertThat(groupSums(pruned.groups(f, by, Views.Order.TOTAL, 1000))).as("%s by %s", f, by)
                                .isEqualTo(groupSums(rollups.groups(f, by, Views.Order.TOTAL, 1000)));
                    }
                    Views.Timeseries x = pruned.timeseries(f, Dim.EXE, 86_400, 30, java.time.ZoneOffset.UTC);
                    Views.Timeseries y = rollups.timeseries(f, Dim.EXE, 86_400, 30, java.time.ZoneOffset.UTC);
                    assertThat(x.series().stream().map(s -> s.key() + " " + s.total()).toList()).as("%s", f)
                            .isEqualTo(y.series().stream().map(s -> s.key() + " " + s.total()).toList());
                    // Pids follow the raw windows (see above); everything else of the tree stays.
                    assertThat(flat(pruned.processes(f, 1000), "").stream().map(WebRollupsTest::withoutPids).toList())
                            .as("%s", f).isEqualTo(flat(rollups.processes(f, 1000), "").stream().map(WebRollupsTest::withoutPids).toList());
                    List<Views.Destination> p = pruned.destinations(f, 1000, 1000), q = rollups.destinations(f, 1000, 1000);
                    assertThat(p).hasSameSizeAs(q);
                    for (int i = 0; i < p.size(); i++) {
                        assertThat(p.get(i).processes()).as("processes of %s in %s", q.get(i).raddr(), f).isEqualTo(q.get(i).processes());
                    }
                }
            }
        }
    }

    @Test
    void aRangeAfterTheRetentionCutoffIsAllThere(@TempDir Path other) throws Exception {
        Path file = other.resolve("peekd.db");
        store(file, history());
        Instant now = BASE.plus(Duration.ofDays(10)).plusSeconds(37);
        try (Store s = Store.open(file)) {
            io.peekd.store.Retention.run(s, new io.peekd.store.Retention.Policy(2, 100, 100, 100), now);
        }
        long cutoff = (now.getEpochSecond() - 2 * 86_400L) / 60 * 60;
        try (Db d = new Db(file, 2)) {
            Views v = new Views(d, true);
            assertThat(v.keptFrom(range(Instant.ofEpochSecond(cutoff), now))).isNull();
            assertThat(v.keptFrom(range(Instant.ofEpochSecond(cutoff - 1), now))).isEqualTo(cutoff);
        }
    }

    private static List<String> groupSums(List<Views.Group> groups) {
        return groups.stream().map(g -> g.key() + " " + g.sent() + " " + g.recv() + " " + g.conns()).toList();
    }

    private static String withoutPids(String line) {
        return line.replaceFirst(" pids \\d+ ", " ");
    }

    @Test
    void processTreesAreEqual() {
        for (Filter r : RANGES) {
            for (UnaryOperator<Filter> fo : FILTERS) {
                Filter f = fo.apply(r);
                assertThat(flat(rollups.processes(f, 1000), "")).as("%s", f).isEqualTo(flat(raw.processes(f, 1000), ""));
            }
        }
        // Two idents rows (command lines) of one program: their pids add up in its node.
        // app-0: two idents rows of one rollup identity, both pid 3000 (counted once per idents
        // row, as the raw view always did), and one of another identity (3001).
        assertThat(flat(raw.processes(RANGES.get(1), 1000), "")).anyMatch(s -> s.contains("/usr/bin/app-0 ") && s.contains(" pids 3 "));
    }

    /**
     * Pids per UTC day follow the raw windows' retention: where it cut through a day, that
     * day's pids are counted from the windows left, as the raw view counts them. Traffic is
     * not compared: the rollups keep what retention deleted from the windows.
     */
    @Test
    void pidsAfterRetentionCutThroughADayAreThoseOfTheWindowsLeft(@TempDir Path other) throws Exception {
        Path file = other.resolve("peekd.db");
        // Three programs whose pids change every few hours, so that each day has pids of its own.
        List<FlowRow> rows = new ArrayList<>();
        for (int k = 0; k < 3 * 288; k++) {
            Identity id = TestDb.id("/usr/bin/job-" + k % 3, "job-" + k % 3, "job", "ab", 5000 + k / 40,
                    "/usr/bin/cron", "cron", 1000, "user0", null);
            rows.add(new FlowRow(BASE.plusSeconds(300L * k), id, "tcp", 4, "10.0.0.2", 40000, "198.51.100.7", 443,
                    null, null, null, 100, 200, 1));
        }
        store(file, rows);
        Instant cutoff = BASE.plus(Duration.ofDays(1)).plusSeconds(10 * 3600);
        try (Store s = Store.open(file)) {
            io.peekd.store.Retention.run(s, new io.peekd.store.Retention.Policy(1, 10, 10, 10), cutoff.plus(Duration.ofDays(1)));
        }
        try (Db d = new Db(file, 2)) {
            Filter f = range(cutoff.minusSeconds(12 * 3600), cutoff.plus(Duration.ofDays(2)));
            Map<String, Long> want = pids(new Views(d, false).processes(f, 1000), new java.util.TreeMap<>());
            assertThat(want).hasSize(3);
            assertThat(want.values().stream().mapToLong(Long::longValue).sum()).isGreaterThan(30);
            assertThat(pids(new Views(d, true).processes(f, 1000), new java.util.TreeMap<>())).isEqualTo(want);
        }
    }

    private static Map<String, Long> pids(List<Views.Proc> procs, Map<String, Long> out) {
        for (Views.Proc p : procs) {
            if (p.pids() > 0) out.put(p.exe() + " " + p.name(), p.pids());
            pids(p.children(), out);
        }
        return out;
    }

    /** The tree as lines, without first and last seen, which a rollup rounds. */
    private static List<String> flat(List<Views.Proc> procs, String indent) {
        List<String> out = new ArrayList<>();
        for (Views.Proc p : procs) {
            out.add(indent + p.exe() + " " + p.name() + " " + p.sha256() + " " + p.user() + " pids " + p.pids() + " "
                    + p.sent() + " " + p.recv() + " " + p.conns() + (p.placeholder() ? " placeholder" : ""));
            out.addAll(flat(p.children(), indent + "  "));
        }
        return out;
    }
}

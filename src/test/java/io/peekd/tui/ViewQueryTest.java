package io.peekd.tui;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.peekd.store.Reader;

/** The view's aggregate queries against a real database with known sums. */
class ViewQueryTest {

    @TempDir
    static Path dir;
    static Path db;
    static Instant now;

    @BeforeAll
    static void history() throws Exception {
        db = dir.resolve("data/peekd.db");
        now = Instant.now();
        ViewDb.write(db, now);
    }

    private static Page run(Dimension d, TimeRange r, int offset, Filter... filters) throws Exception {
        return run(d, r, offset, Annotator.NONE, ZoneId.systemDefault(), filters);
    }

    private static Page run(Dimension d, TimeRange r, int offset, Annotator a, ZoneId zone, Filter... filters)
            throws Exception {
        ViewQuery q = new ViewQuery(d, List.of(filters), r, offset, now.getEpochSecond() + 1, zone);
        try (Reader reader = Reader.open(db)) {
            return reader.read(c -> q.run(c, ps -> { }, a));
        }
    }

    /** label -> {sent, recv}, in the page's order. */
    private static Map<String, List<Long>> sums(Page p) {
        Map<String, List<Long>> out = new LinkedHashMap<>();
        for (Entry e : p.entries()) {
            out.put(e.label(), List.of(e.sent(), e.recv()));
        }
        return out;
    }

    @Test
    void eachDimensionGroupsAndOrdersByTotal() throws Exception {
        assertThat(sums(run(Dimension.EXE, TimeRange.ALL, 0))).containsExactly(
                Map.entry("/usr/bin/wget", List.of(400L, 1_000_200L)),
                Map.entry("/usr/bin/curl", List.of(1500L, 27_000L)),
                Map.entry("/usr/sbin/sshd", List.of(5000L, 6000L)),
                Map.entry(ViewDb.EVIL_EXE, List.of(42L, 43L)));
        assertThat(sums(run(Dimension.USER, TimeRange.ALL, 0))).containsExactly(
                Map.entry("root (0)", List.of(5400L, 1_006_200L)),
                Map.entry("alice (1000)", List.of(1500L, 27_000L)),
                Map.entry("bob (1001)", List.of(42L, 43L)));
        assertThat(sums(run(Dimension.PEXE, TimeRange.ALL, 0))).containsExactly(
                Map.entry("/usr/sbin/cron", List.of(400L, 1_000_200L)),
                Map.entry("/usr/bin/bash", List.of(1542L, 27_043L)),
                Map.entry("/usr/sbin/sshd", List.of(5000L, 6000L)));
        assertThat(sums(run(Dimension.DOMAIN, TimeRange.ALL, 0))).containsExactly(
                Map.entry("download.test", List.of(400L, 1_000_200L)),
                Map.entry("example.org", List.of(1500L, 27_000L)),
                Map.entry("(none)", List.of(5042L, 6043L)));
        assertThat(sums(run(Dimension.CONTAINER, TimeRange.ALL, 0))).containsExactly(
                Map.entry("web", List.of(400L, 1_000_200L)),
                Map.entry("(host)", List.of(6542L, 33_043L)));
        assertThat(sums(run(Dimension.RPORT, TimeRange.ALL, 0)).keySet()).containsExactly("80", "443", "51000",
                "6667");
        Page all = run(Dimension.LADDR, TimeRange.ALL, 0);
        assertThat(all.sent()).isEqualTo(ViewDb.SENT_ALL);
        assertThat(all.recv()).isEqualTo(ViewDb.RECV_ALL);
        assertThat(all.truncated()).isFalse();
        // Every tab adds up to the same totals.
        for (Dimension d : Dimension.values()) {
            Page p = run(d, TimeRange.ALL, 0);
            assertThat(p.sent()).as(d.id()).isEqualTo(ViewDb.SENT_ALL);
            assertThat(p.recv()).as(d.id()).isEqualTo(ViewDb.RECV_ALL);
            assertThat(p.entries().stream().mapToLong(Entry::total).sum()).as(d.id()).isEqualTo(p.total());
        }
    }

    @Test
    void missingValuesAreKeysThatCanBeFilteredAndExcluded() throws Exception {
        Page domains = run(Dimension.DOMAIN, TimeRange.ALL, 0);
        Entry none = domains.entries().get(2);
        assertThat(none.missing()).isTrue();
        assertThat(none.key()).isNull();
        Filter isNone = new Filter(Dimension.DOMAIN, null, 0, false, "(none)", Dimension.DOMAIN);
        assertThat(sums(run(Dimension.EXE, TimeRange.ALL, 0, isNone)).keySet()).containsExactly("/usr/sbin/sshd",
                ViewDb.EVIL_EXE);
        Filter notNone = new Filter(Dimension.DOMAIN, null, 0, true, "(none)", Dimension.DOMAIN);
        assertThat(sums(run(Dimension.EXE, TimeRange.ALL, 0, notNone)).keySet()).containsExactly("/usr/bin/wget",
                "/usr/bin/curl");
    }

    @Test
    void filtersCombine() throws Exception {
        Filter root = new Filter(Dimension.USER, 0L, 0, false, "root (0)", Dimension.USER);
        Filter notWeb = new Filter(Dimension.CONTAINER, "web", 0, true, "web", Dimension.CONTAINER);
        Page p = run(Dimension.EXE, TimeRange.ALL, 0, root, notWeb);
        assertThat(sums(p)).containsExactly(Map.entry("/usr/sbin/sshd", List.of(5000L, 6000L)));
        // A hostile value is just a parameter.
        Filter evil = new Filter(Dimension.NAME, ViewDb.EVIL_NAME, 0, false, ViewDb.EVIL_NAME, Dimension.NAME);
        assertThat(sums(run(Dimension.CMDLINE, TimeRange.ALL, 0, evil)).keySet()).containsExactly(ViewDb.EVIL_CMD);
    }

    @Test
    void rangesAndHistorySteps() throws Exception {
        assertThat(sums(run(Dimension.EXE, TimeRange.MINUTE, 0)).keySet()).containsExactly("/usr/bin/wget",
                "/usr/bin/curl");
        assertThat(sums(run(Dimension.EXE, TimeRange.HOUR, 0)).keySet()).containsExactly("/usr/bin/wget",
                "/usr/bin/curl", ViewDb.EVIL_EXE);
        // One hour back: [now-2h, now-1h) holds curl's row of 90 minutes ago only.
        assertThat(sums(run(Dimension.EXE, TimeRange.HOUR, 1)))
                .containsExactly(Map.entry("/usr/bin/curl", List.of(500L, 7000L)));
        assertThat(run(Dimension.EXE, TimeRange.HOUR, 2).entries()).isEmpty();
        // The present week holds wget's row of three days ago, not sshd's of forty days ago.
        assertThat(sums(run(Dimension.EXE, TimeRange.WEEK, 0)).keySet()).contains("/usr/bin/wget")
                .doesNotContain("/usr/sbin/sshd");
        assertThat(sums(run(Dimension.EXE, TimeRange.WEEK, 5)).keySet()).containsExactly("/usr/sbin/sshd");
        assertThat(run(Dimension.EXE, TimeRange.MONTH, 0).entries()).hasSize(3);
    }

    @Test
    void timeBucketsFollowTheRangeAndTimeFilters() throws Exception {
        ZoneId utc = ZoneOffset.UTC;
        Page days = run(Dimension.TIME, TimeRange.ALL, 0, Annotator.NONE, utc);
        assertThat(days.bucket()).isEqualTo(86_400);
        // Newest first; the sums per UTC day agree with the rows.
        Map<Long, long[]> expect = new HashMap<>();
        for (var r : rows()) {
            long day = Math.floorDiv(r.time().getEpochSecond(), 86_400) * 86_400;
            long[] s = expect.computeIfAbsent(day, k -> new long[2]);
            s[0] += r.sent();
            s[1] += r.recv();
        }
        assertThat(days.entries()).hasSize(expect.size());
        long previous = Long.MAX_VALUE;
        for (Entry e : days.entries()) {
            long k = (Long) e.key();
            assertThat(k).isLessThan(previous);
            previous = k;
            assertThat(new long[] {e.sent(), e.recv()}).containsExactly(expect.get(k));
        }
        // Filtering on a day splits that day into hours.
        Entry today = days.entries().getFirst();
        Filter day = new Filter(Dimension.TIME, today.key(), days.bucket(), false, today.label(), Dimension.TIME);
        Page hours = run(Dimension.TIME, TimeRange.ALL, 0, Annotator.NONE, utc, day);
        assertThat(hours.bucket()).isEqualTo(3_600);
        assertThat(hours.total()).isEqualTo(today.total());
        assertThat(hours.entries()).allSatisfy(e -> assertThat(e.label()).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:00"));
        // The last minute: one row per second.
        assertThat(run(Dimension.TIME, TimeRange.MINUTE, 0, Annotator.NONE, utc).bucket()).isEqualTo(1);
        assertThat(run(Dimension.TIME, TimeRange.DAY, 0, Annotator.NONE, utc).bucket()).isEqualTo(3_600);
        assertThat(ViewQuery.Buckets.width(3_600)).isEqualTo(60);
        assertThat(ViewQuery.Buckets.width(6 * 3_600)).isEqualTo(600);
        assertThat(ViewQuery.Buckets.width(365L * 86_400)).isEqualTo(86_400);
    }

    private static List<io.peekd.flow.FlowRow> rows() {
        try (Reader r = Reader.open(db)) {
            return r.query(io.peekd.store.Query.all());
        }
    }

    @Test
    void annotationsFillTheVerdictAndCountryColumns() throws Exception {
        List<Collection<String>> asked = new ArrayList<>();
        Annotator a = new Annotator() {
            @Override
            public Map<String, String> verdicts(Collection<String> sha256s) {
                asked.add(List.copyOf(sha256s));
                return Map.of(ViewDb.CURL_SHA, "clean");
            }

            @Override
            public Map<String, String> countries(Collection<String> addresses) {
                return Map.of("93.184.216.34", "US");
            }
        };
        Page hashes = run(Dimension.SHA256, TimeRange.ALL, 0, a, ZoneId.systemDefault());
        assertThat(asked).hasSize(1);
        assertThat(asked.getFirst()).hasSize(4).contains(ViewDb.CURL_SHA, ViewDb.WGET_SHA);
        assertThat(hashes.entries()).filteredOn(e -> ViewDb.CURL_SHA.equals(e.key()))
                .singleElement().extracting(Entry::note).isEqualTo("clean");
        assertThat(hashes.entries()).filteredOn(e -> ViewDb.WGET_SHA.equals(e.key()))
                .singleElement().extracting(Entry::note).isNull();
        Page remote = run(Dimension.RADDR, TimeRange.ALL, 0, a, ZoneId.systemDefault());
        assertThat(remote.entries()).filteredOn(e -> "93.184.216.34".equals(e.key()))
                .singleElement().extracting(Entry::note).isEqualTo("US");
        // Other tabs do not ask, and a failing lookup leaves the column empty, not the tab.
        Annotator broken = new Annotator() {
            @Override
            public Map<String, String> countries(Collection<String> addresses) {
                throw new IllegalStateException("GeoIP file unreadable");
            }
        };
        Page still = run(Dimension.RADDR, TimeRange.ALL, 0, broken, ZoneId.systemDefault());
        assertThat(still.entries()).hasSize(4).allSatisfy(e -> assertThat(e.note()).isNull());
    }

    @Test
    void tooManyKeysAreCutButTheTotalsStayExact(@TempDir Path big) throws Exception {
        Path file = big.resolve("data/peekd.db");
        ViewDb.write(file, now);
        long[] bulk = ViewDb.bulk(file, ViewQuery.MAX_ENTRIES + 5_000, now);
        ViewQuery q = new ViewQuery(Dimension.LPORT, List.of(), TimeRange.ALL, 0, now.getEpochSecond() + 1,
                ZoneId.systemDefault());
        Page p;
        try (Reader reader = Reader.open(file)) {
            p = reader.read(c -> q.run(c, ps -> { }, Annotator.NONE));
        }
        assertThat(p.truncated()).isTrue();
        assertThat(p.entries()).hasSize(ViewQuery.MAX_ENTRIES);
        assertThat(p.sent()).isEqualTo(ViewDb.SENT_ALL + bulk[0]);
        assertThat(p.recv()).isEqualTo(ViewDb.RECV_ALL + bulk[1]);
    }

    /**
     * After retention, the part of a range before the raw windows comes from the rollups on
     * tabs they answer, and is missing (and said to be) on the others.
     */
    @Test
    void aRangeBeyondTheRawWindowsReadsTheRollupsOrSaysWhereTheRowsStart(@TempDir Path pruned) throws Exception {
        Path file = pruned.resolve("data/peekd.db");
        ViewDb.write(file, now);
        try (io.peekd.store.Store s = io.peekd.store.Store.open(file)) {
            // Keeps two days of windows, minutes and hours; whole weeks of days. The row 3 days
            // old is then in the day rollup only, the one 40 days old nowhere.
            io.peekd.store.Retention.run(s, new io.peekd.store.Retention.Policy(2, 2, 2, 2), now);
        }
        java.time.ZoneId zone = java.time.ZoneId.of("Asia/Kolkata");
        Instant cutoff = Instant.ofEpochSecond(Math.floorDiv(now.getEpochSecond() - 2 * 86_400L, 60) * 60);
        String when = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").format(cutoff.atZone(zone));
        try (Reader after = Reader.open(file); Reader before = Reader.open(db)) {
            for (Dimension tab : List.of(Dimension.EXE, Dimension.USER, Dimension.RPORT, Dimension.DOMAIN, Dimension.TIME)) {
                ViewQuery week = new ViewQuery(tab, List.of(), TimeRange.WEEK, 0, now.getEpochSecond() + 1, zone);
                Page p = after.read(c -> week.run(c, ps -> { }, Annotator.NONE));
                Page q = before.read(c -> week.run(c, ps -> { }, Annotator.NONE));
                assertThat(List.of(p.sent(), p.recv())).as("week by %s", tab).isEqualTo(List.of(q.sent(), q.recv()));
                if (tab != Dimension.TIME) assertThat(sums(p)).as("week by %s", tab).isEqualTo(sums(q));
                assertThat(p.keptFrom()).isEqualTo(cutoff);
                assertThat(p.historyNote()).isEqualTo("before " + when + ": rollup sums");
            }
            // Filtered on the process: the same, from the rollups too.
            Filter wget = new Filter(Dimension.EXE, "/usr/bin/wget", 0, false, "/usr/bin/wget", Dimension.EXE);
            ViewQuery byDomain = new ViewQuery(Dimension.DOMAIN, List.of(wget), TimeRange.WEEK, 0, now.getEpochSecond() + 1, zone);
            assertThat(sums(after.read(c -> byDomain.run(c, ps -> { }, Annotator.NONE))))
                    .containsExactly(Map.entry("download.test", List.of(400L, 1_000_200L)));
            // All time: everything the rollups still have, which is all but the row 40 days old.
            ViewQuery all = new ViewQuery(Dimension.EXE, List.of(), TimeRange.ALL, 0, now.getEpochSecond() + 1, zone);
            Map<String, List<Long>> everything = sums(after.read(c -> all.run(c, ps -> { }, Annotator.NONE)));
            Map<String, List<Long>> want = new LinkedHashMap<>(sums(before.read(c -> all.run(c, ps -> { }, Annotator.NONE))));
            assertThat(want.remove("/usr/sbin/sshd")).isNotNull();
            assertThat(everything).isEqualTo(want);
            // Command lines are not in the rollups: the older part is missing, and the status says so.
            ViewQuery cmd = new ViewQuery(Dimension.CMDLINE, List.of(), TimeRange.WEEK, 0, now.getEpochSecond() + 1, zone);
            Page p = after.read(c -> cmd.run(c, ps -> { }, Annotator.NONE));
            Page q = before.read(c -> cmd.run(c, ps -> { }, Annotator.NONE));
            assertThat(p.sent()).isEqualTo(q.sent() - 100);
            assertThat(p.historyNote()).isEqualTo("rows kept from " + when + "; older sums: other tabs, peekd report");
            // A day is all in the raw windows: nothing to say.
            ViewQuery day = new ViewQuery(Dimension.EXE, List.of(), TimeRange.DAY, 0, now.getEpochSecond() + 1, zone);
            Page d = after.read(c -> day.run(c, ps -> { }, Annotator.NONE));
            assertThat(d.keptFrom()).isNull();
            assertThat(d.historyNote()).isNull();
            // Without retention having run, nothing either.
            assertThat(before.read(c -> all.run(c, ps -> { }, Annotator.NONE)).historyNote()).isNull();
        }
    }
}

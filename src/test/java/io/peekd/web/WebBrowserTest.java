package io.peekd.web;

import io.peekd.testkit.Tgen;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.peekd.flow.FlowRow;
import io.peekd.store.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard in real headless Chromium over a real database: what the page shows is
 * compared with the database, the controls are used as a user would, and screenshots of the
 * main views go to target/web-screenshots/.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WebBrowserTest {
    static final Path SHOTS = Path.of("target/web-screenshots");
    static final Duration WAIT = Duration.ofSeconds(45); // generous: CI machines are shared
    /**
     * The browser's time zone, whatever the machine's: half an hour off UTC, so that a page
     * that showed UTC, or the server's zone, or whole hours only, would show the wrong times.
     */
    static final java.time.ZoneId ZONE = java.time.ZoneId.of("America/St_Johns");

    @TempDir
    static Path dir;
    static WebFixture web;
    static Chromium browser;

    @BeforeAll
    static void start() throws Exception {
        web = WebFixture.start(dir);
        browser = Chromium.launch(Tgen.testDir());
        browser.size(1280, 800);
        browser.send("Emulation.setTimezoneOverride", java.util.Map.of("timezoneId", ZONE.getId()));
    }

    @AfterAll
    static void stop() {
        if (browser != null) browser.close();
        if (web != null) web.close();
    }

    /** Loads the page (or a hash state of it) and waits until every view has rendered. */
    static void open(String hash) throws Exception {
        // A fresh document each time: a change of hash alone would keep the old page and its flags.
        browser.navigate("about:blank");
        assertThat(browser.until("location.href === 'about:blank'", WAIT)).isTrue();
        browser.navigate(web.base + "/" + hash);
        boolean ok = browser.until("document.body && document.body.dataset.seq && document.body.dataset.loading === '0'", WAIT);
        if (!ok) {
            throw new AssertionError("page did not render: " + browser.eval("JSON.stringify({href: location.href,"
                    + " data: document.body && Object.assign({}, document.body.dataset),"
                    + " error: document.getElementById('error') && document.getElementById('error').textContent})")
                    + " page errors: " + browser.pageErrors());
        }
    }

    /** Runs an action that triggers a refresh, and waits for the refresh to finish. */
    static void andWait(String action) throws Exception {
        long seq = browser.eval("+(document.body.dataset.seq || 0)").asLong();
        browser.eval(action);
        assertThat(browser.until("+(document.body.dataset.seq || 0) > " + seq + " && document.body.dataset.loading === '0'", WAIT))
                .as("refresh after " + action).isTrue();
    }

    static long card(String id) throws Exception {
        return Long.parseLong(browser.text("document.getElementById('" + id + "').dataset.v"));
    }

    static String select(String id, String value) {
        return "(() => { const s = document.getElementById('" + id + "'); s.value = '" + value + "';"
                + " s.dispatchEvent(new Event('change')); })()";
    }

    /**
     * [interval, max, top] of a time chart's byte axis, where top is the highest stack of the
     * buckets the x axis shows now (after a zoom, those in view).
     */
    static double[] byteAxis(String id) throws Exception {
        JsonNode a = browser.eval("(() => { const c = echarts.getInstanceByDom(document.getElementById('" + id + "'));"
                + " const o = c.getOption(), y = o.yAxis[0];"
                + " const [lo, hi] = c.getModel().getComponent('xAxis', 0).axis.scale.getExtent();"
                + " let top = 0; o.series[0].data.forEach((d, i) => { if (d[0] < lo || d[0] > hi) return;"
                + "   top = Math.max(top, o.series.reduce((sum, s) => sum + s.data[i][1], 0)); });"
                + " return [y.interval, y.max, top]; })()");
        return new double[] {a.get(0).asDouble(), a.get(1).asDouble(), a.get(2).asDouble()};
    }

    /** The axis steps at a round binary amount (1, 2, 2.5, 5, 10, 20, 25, 50 ... of B, KiB, MiB) and fits the data. */
    static void assertRoundAndTight(String id, double[] a) {
        double interval = a[0], max = a[1], top = a[2];
        if (top == 0) { // nothing in view: any small axis will do
            assertThat(max).as(id + " empty axis").isPositive();
            return;
        }
        double unit = 1;
        while (unit * 1024 <= interval) unit *= 1024;
        assertThat(List.of(1.0, 2.0, 2.5, 5.0, 10.0, 20.0, 25.0, 50.0, 100.0, 200.0, 250.0, 500.0))
                .as(id + " step " + interval).contains(interval / unit);
        assertThat(max).as(id + " top of the axis").isGreaterThanOrEqualTo(top).isLessThan(top + interval);
        assertThat(max / interval).as(id + " steps").isBetween(1.0, 8.0);
    }

    @Test
    @Order(2)
    void byteAxesStepAtRoundBinaryAmountsAndFollowTheZoom() throws Exception {
        open("#since=7d");
        double fullTop = 0;
        for (String id : List.of("ch-sent", "ch-recv", "ch-bars")) {
            double[] a = byteAxis(id);
            assertThat(a[2]).as(id + " has data").isPositive();
            assertRoundAndTight(id, a);
            if (id.equals("ch-bars")) fullTop = a[2];
        }
        // Zoom into each third of the range in turn: every chart's scale follows what is in view.
        boolean smallerSomewhere = false;
        for (int[] w : new int[][] {{0, 34}, {33, 67}, {66, 100}}) {
            browser.eval("echarts.getInstanceByDom(document.getElementById('ch-bars')).dispatchAction({type: 'dataZoom',"
                    + " start: " + w[0] + ", end: " + w[1] + "})");
            for (String id : List.of("ch-sent", "ch-recv", "ch-bars")) {
                double[] a = byteAxis(id);
                assertRoundAndTight(id + " zoomed to " + w[0] + "-" + w[1] + " %", a);
                if (id.equals("ch-bars") && a[1] < fullTop) smallerSomewhere = true;
            }
        }
        // Otherwise the data would not show that the scale follows the zoom.
        assertThat(smallerSomewhere).as("some third of the week has less traffic than the busiest bucket").isTrue();
        // Tick labels have no trailing zeros: "2.5 MiB", "500 KiB", not "2.50 MiB" or "500.00 KiB".
        assertThat(browser.text("['0 B', 5 * 1048576, 2.5 * 1048576, 500 * 1024].map((v) => typeof v === 'number'"
                + " ? window.peekd.axisBytes(v) : v).join('|')")).isEqualTo("0 B|5 MiB|2.5 MiB|500 KiB");
    }

    @Test
    @Order(1)
    void overviewShowsTheDatabaseAndFollowsTheTimeRange() throws Exception {
        open("");
        long from = Long.parseLong(browser.text("new URLSearchParams(location.hash.slice(1)).get('since') === '24h' ? '1' : '0'"));
        assertThat(from).as("default range in the permalink").isEqualTo(1);
        Instant dayAgo = Instant.now().minus(Duration.ofHours(24));
        long[] day = web.db.sums(TestDb.since(dayAgo));
        assertThat(card("c-sent")).isEqualTo(day[0]);
        assertThat(card("c-recv")).isEqualTo(day[1]);
        assertThat(card("c-conns")).isEqualTo(day[2]);
        assertThat(browser.text("document.getElementById('c-recv').textContent")).matches("[0-9.]+ (B|KiB|MiB|GiB)");
        String offset = ZONE.getRules().getOffset(Instant.now()).getId();
        assertThat(browser.text("document.getElementById('zone').textContent")).isEqualTo("Times: " + ZONE.getId()
                + " (UTC" + offset + ")");

        // One table row per executable in range, with exact sums.
        JsonNode rows = browser.eval("[...document.querySelectorAll('#t-groups tbody tr')].map(r => [JSON.parse(r.dataset.key).exe,"
                + " +r.cells[1].dataset.v, +r.cells[2].dataset.v])");
        assertThat(rows).hasSize(5);
        for (JsonNode r : rows) {
            String exe = r.get(0).asText();
            long[] want = web.db.sums(x -> exe.equals(x.id().exe()) && !x.time().isBefore(dayAgo));
            assertThat(r.get(1).asLong()).as(exe + " sent").isEqualTo(want[0]);
            assertThat(r.get(2).asLong()).as(exe + " recv").isEqualTo(want[1]);
        }
        // The charts are ECharts canvases with one series per group.
        assertThat(browser.eval("echarts.getInstanceByDom(document.getElementById('ch-sent')).getOption().series.length").asInt())
                .isEqualTo(5);
        assertThat(browser.eval("document.querySelectorAll('#ch-recv canvas').length").asInt()).isPositive();
        // The chart library is asked for only once the cards and the table are drawn, so they
        // do not wait for the few hundred ms it takes to run.
        JsonNode order = browser.eval("[performance.getEntriesByName('first render')[0].startTime,"
                + " performance.getEntriesByType('resource').find(e => e.name.includes('/static/vendor/echarts')).startTime]");
        assertThat(order.get(1).asDouble()).as("chart library requested after the first render").isGreaterThanOrEqualTo(order.get(0).asDouble());
        browser.screenshot(SHOTS.resolve("01-overview-1280x800.png"));

        andWait(select("preset", "7d"));
        long[] week = web.db.sums(TestDb.since(Instant.now().minus(Duration.ofDays(7))));
        assertThat(card("c-sent")).isEqualTo(week[0]).isGreaterThan(day[0]);
        assertThat(browser.text("location.hash")).contains("since=7d");

        // Custom range with the date pickers: just the hours two days ago.
        browser.eval(select("preset", "custom"));
        Instant twoDays = web.db.now.minus(Duration.ofDays(2));
        String fromLocal = local(twoDays.minusSeconds(60)), toLocal = local(twoDays.plusSeconds(4 * 3600));
        andWait("(() => { document.getElementById('from').value = '" + fromLocal + "';"
                + " document.getElementById('to').value = '" + toLocal + "';"
                + " document.getElementById('apply').click(); })()");
        long[] custom = web.db.sums(r -> !r.time().isBefore(twoDays.minusSeconds(60)) && r.time().isBefore(twoDays.plusSeconds(4 * 3600)));
        assertThat(custom[0]).isEqualTo(4 * 5_000);
        assertThat(card("c-sent")).isEqualTo(custom[0]);
        assertThat(browser.text("location.hash")).contains("from=");

        // Group by another dimension.
        andWait(select("preset", "30d"));
        andWait(select("by", "rport"));
        JsonNode ports = browser.eval("[...document.querySelectorAll('#t-groups tbody tr')].map(r => JSON.parse(r.dataset.key).rport)");
        assertThat(ports.toString()).contains("443", "22", "80", "53", "8080");
        assertThat(browser.text("document.querySelector('#t-groups thead th').textContent")).isEqualTo("Remote port");
        // The inline column filter narrows the table without asking the server.
        browser.eval("(() => { const i = document.querySelector('#t-groups input.colfilter'); i.value = '44';"
                + " i.dispatchEvent(new Event('input')); })()");
        assertThat(browser.eval("document.querySelectorAll('#t-groups tbody tr').length").asInt()).isEqualTo(1);
        browser.screenshot(SHOTS.resolve("02-by-remote-port-30d.png"));
    }

    private static String local(Instant t) {
        return java.time.LocalDateTime.ofInstant(t, ZONE)
                .format(java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm"));
    }

    @Test
    @Order(2)
    void drillIntoAProcessOpensItsConnectionTimeline() throws Exception {
        open("#since=24h&by=exe&view=groups");
        andWait("[...document.querySelectorAll('#t-groups tbody tr')].find(r => JSON.parse(r.dataset.key).exe === '/usr/bin/curl').click()");
        assertThat(browser.until("!document.getElementById('slide').hidden", WAIT)).isTrue();
        assertThat(browser.text("document.getElementById('slidetitle').textContent")).isEqualTo("Executable: /usr/bin/curl");
        assertThat(browser.text("document.querySelector('#chips .chip').textContent")).contains("Executable = /usr/bin/curl");
        Instant dayAgo = Instant.now().minus(Duration.ofHours(24));
        long[] curl = web.db.sums(r -> r.id() == TestDb.CURL && !r.time().isBefore(dayAgo));
        assertThat(card("c-sent")).isEqualTo(curl[0]);
        assertThat(browser.eval("document.querySelectorAll('#t-conns tbody tr').length").asInt())
                .isEqualTo((int) web.db.rows.stream().filter(r -> r.id() == TestDb.CURL && !r.time().isBefore(dayAgo)).count());
        // Each connection's time in the browser's zone (half an hour off UTC and the machine's).
        JsonNode shown = browser.eval("[...document.querySelectorAll('#t-conns tbody tr')].map(r => r.cells[0].textContent)");
        List<String> times = new java.util.ArrayList<>();
        for (JsonNode t : shown) {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("\\d\\d:\\d\\d:\\d\\d").matcher(t.asText());
            assertThat(m.find()).as(t.asText()).isTrue();
            times.add(m.group());
        }
        assertThat(times.stream().sorted().toList()).isEqualTo(web.db.rows.stream()
                .filter(r -> r.id() == TestDb.CURL && !r.time().isBefore(dayAgo))
                .map(r -> java.time.LocalTime.ofInstant(r.time(), ZONE).format(java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss")))
                .sorted().toList());
        assertThat(browser.text("location.hash")).contains("f=exe%3A%2Fusr%2Fbin%2Fcurl").contains("panel=");
        browser.eval("document.querySelector('#t-conns tbody tr').click()");
        assertThat(browser.until("!document.getElementById('detail').hidden", WAIT)).isTrue();
        String detail = browser.text("document.getElementById('detail').textContent");
        assertThat(detail).contains("93.184.216.34", "example.org", "Ignore 93.184.216.34");
        browser.screenshot(SHOTS.resolve("03-drill-down-curl.png"));

        // The permalink restores the same view in a fresh load.
        String hash = browser.text("location.hash");
        open(hash);
        assertThat(card("c-sent")).isEqualTo(curl[0]);
        assertThat(browser.eval("!document.getElementById('slide').hidden").asBoolean()).isTrue();

        // Process tree and destinations.
        open("#since=30d&view=processes");
        JsonNode tree = browser.eval("[...document.querySelectorAll('#tree > li')].map(li => [li.querySelector('.node b').textContent,"
                + " [...li.querySelectorAll(':scope > ul > li > .node b')].map(b => b.textContent)])");
        assertThat(tree.toString()).contains("[\"bash\",[").contains("\"curl\"").contains("\"systemd\"");
        browser.screenshot(SHOTS.resolve("04-process-tree.png"));
        open("#since=30d&view=destinations");
        browser.eval("[...document.querySelectorAll('#t-dest tbody tr')].find(r => r.cells[0].textContent.includes('93.184.216.34')).click()");
        assertThat(browser.eval("[...document.querySelectorAll('#t-dest tr.sub')].filter(r => !r.hidden).map(r => r.cells[0].textContent)")
                .toString()).isEqualTo("[\"/usr/bin/curl\"]");
        browser.screenshot(SHOTS.resolve("05-destinations.png"));
    }

    @Test
    @Order(3)
    void addAndRemoveAnIgnoreRule() throws Exception {
        open("#since=24h&view=ignore");
        Path file = web.ignore.path();
        Files.deleteIfExists(file);
        browser.eval("(() => { document.getElementById('ignkind').value = 'domains';"
                + " document.getElementById('ignvalue').value = 'Tracker.Example.';"
                + " document.getElementById('ignadd').click(); })()");
        assertThat(browser.until("[...document.querySelectorAll('[data-kind=domains] li span')].some(s => s.textContent === 'tracker.example')", WAIT))
                .isTrue();
        assertThat(Files.readString(file)).contains("ignore_domains = ['tracker.example']");
        assertThat(web.ignore.read().rules().ignores(TestDb.row(Instant.now(), TestDb.CURL, "tcp", 4, "192.0.2.1", 443,
                "www.tracker.example", 1, 1))).isTrue();
        browser.screenshot(SHOTS.resolve("06-ignore-rules.png"));
        // A bad value is refused with the server's reason, and nothing is written.
        browser.eval("(() => { document.getElementById('ignkind').value = 'ips';"
                + " document.getElementById('ignvalue').value = '10.0.0.1/8';"
                + " document.getElementById('ignadd').click(); })()");
        assertThat(browser.until("!document.getElementById('error').hidden", WAIT)).isTrue();
        assertThat(browser.text("document.getElementById('error').textContent")).contains("host bits");
        assertThat(Files.readString(file)).doesNotContain("10.0.0");
        browser.eval("document.querySelector('[data-remove=\"domains:tracker.example\"]').click()");
        assertThat(browser.until("![...document.querySelectorAll('[data-kind=domains] li span')].some(s => s.textContent === 'tracker.example')", WAIT))
                .isTrue();
        assertThat(web.ignore.read().domains()).isEmpty();
    }

    @Test
    @Order(4)
    void csvExportOfTheViewMatchesTheDatabase() throws Exception {
        open("#since=30d&by=exe&f=user%3Aalice");
        String href = browser.text("document.getElementById('csv').href");
        assertThat(href).contains("/api/export?").contains("since=30d").contains("user=alice");
        assertThat(browser.eval("document.getElementById('csv').hasAttribute('download')").asBoolean()).isTrue();
        String csv = browser.text("fetch(document.getElementById('csv').href).then(r => r.text())");
        List<List<String>> rows = WebApiTest.parseCsv(csv);
        int sent = rows.getFirst().indexOf("sent"), user = rows.getFirst().indexOf("user");
        long total = 0;
        for (List<String> r : rows.subList(1, rows.size())) {
            assertThat(r.get(user)).isEqualTo("alice");
            total += Long.parseLong(r.get(sent));
        }
        long[] alice = web.db.sums(r -> "alice".equals(r.id().user()));
        assertThat(total).isEqualTo(alice[0]).isEqualTo(card("c-sent"));
        assertThat(rows).hasSize(1 + (int) web.db.rows.stream().filter(r -> "alice".equals(r.id().user())).count());
    }

    @Test
    @Order(5)
    void aNewConnectionAppearsLiveWithoutReload() throws Exception {
        open("#since=1h&view=live");
        assertThat(browser.until("document.getElementById('livedot').classList.contains('on')", WAIT)).isTrue();
        Instant t = Instant.ofEpochSecond(Instant.now().getEpochSecond());
        FlowRow fresh = TestDb.row(t, TestDb.id("/opt/new/uploader", "uploader", "uploader --all", "99", 7777,
                "/usr/bin/bash", "bash", 1000, "alice", null), "tcp", 4, "203.0.113.77", 443, "upload.example", 4242, 17);
        long nav = browser.eval("performance.timeOrigin + performance.now()").asLong();
        try (Store s = Store.open(web.db.file)) {
            assertThat(s.writer().submit(List.of(fresh))).isTrue();
            s.writer().flush(Duration.ofSeconds(30));
        }
        long stored = System.currentTimeMillis();
        assertThat(browser.until("document.querySelector('#t-live tr[data-exe=\"/opt/new/uploader\"]')", Duration.ofSeconds(30)))
                .as("new connection shown without reload").isTrue();
        System.out.println("live: new row shown " + (System.currentTimeMillis() - stored) + " ms after it was stored");
        String row = browser.text("document.querySelector('#t-live tr[data-exe=\"/opt/new/uploader\"]').textContent");
        assertThat(row).contains("203.0.113.77:443", "upload.example", "4.14 KiB", "17 B");
        // Same document: the page was not reloaded.
        assertThat(browser.eval("performance.timeOrigin + performance.now()").asLong()).isGreaterThan(nav);
        assertThat(browser.eval("performance.getEntriesByType('navigation').length").asInt()).isEqualTo(1);
        browser.screenshot(SHOTS.resolve("07-live.png"));
    }

    @Test
    @Order(6)
    void narrowWindowAndDarkTheme() throws Exception {
        browser.size(420, 900);
        open("#since=24h&view=groups");
        assertThat(browser.eval("document.documentElement.scrollWidth <= window.innerWidth + 1").asBoolean())
                .as("no sideways scrolling of the page at 420 px").isTrue();
        browser.screenshot(SHOTS.resolve("08-narrow-420.png"));
        browser.size(1280, 800);
        open("#since=24h&view=groups");
        andWait("document.getElementById('theme').click()");
        String bg = browser.text("getComputedStyle(document.body).backgroundColor");
        andWait("document.getElementById('theme').click()");
        assertThat(browser.text("getComputedStyle(document.body).backgroundColor")).isNotEqualTo(bg);
        if (browser.text("document.documentElement.dataset.theme").equals("light")) andWait("document.getElementById('theme').click()");
        assertThat(browser.text("document.documentElement.dataset.theme")).isEqualTo("dark");
        browser.screenshot(SHOTS.resolve("09-dark-1280x800.png"));
        andWait("document.getElementById('theme').click()");
    }

    @Test
    @Order(7)
    void hostileNamesAreShownAsTextAndThePageRaisesNoErrors() throws Exception {
        open("#since=24h&by=name");
        assertThat(browser.eval("[...document.querySelectorAll('#t-groups tbody td')].some(td => td.textContent === '<img src=x onerror=alert(1)>')")
                .asBoolean()).isTrue();
        assertThat(browser.eval("document.querySelectorAll('#t-groups img').length").asInt()).isZero();
        assertThat(browser.events("Page.javascriptDialogOpening")).isEmpty();
        assertThat(browser.pageErrors()).isEmpty();
    }

    /**
     * Last, as it deletes windows from the shared database: after retention the sums still
     * count the deleted windows (from the rollups), and the connection list, which can only
     * show windows, says where they begin.
     */
    @Test
    @Order(8)
    void afterRetentionTheSumsKeepOlderTrafficAndTheConnectionListSaysWhereItBegins() throws Exception {
        Instant now = Instant.now();
        long[] sshd = web.db.sums(r -> r.id() == TestDb.SSHD);
        assertThat(sshd[0]).isEqualTo(777_777 + 1_000_000);
        try (Store s = Store.open(web.db.file)) {
            // Five days of windows: sshd's of ten days ago goes, its rollups stay.
            io.peekd.store.Retention.run(s, new io.peekd.store.Retention.Policy(5, 100, 100, 100), now);
        }
        open("#since=30d&by=exe&view=groups");
        andWait("[...document.querySelectorAll('#t-groups tbody tr')].find(r => JSON.parse(r.dataset.key).exe === '/usr/sbin/sshd').click()");
        assertThat(browser.until("!document.getElementById('slide').hidden && document.querySelectorAll('#t-conns tbody tr').length > 0", WAIT))
                .isTrue();
        assertThat(card("c-sent")).as("sshd's sent bytes over 30 days, the deleted window's included").isEqualTo(sshd[0]);
        assertThat(browser.eval("document.querySelectorAll('#t-conns tbody tr').length").asInt()).as("the window left").isEqualTo(1);
        assertThat(browser.eval("document.getElementById('keptnote').hidden").asBoolean()).isFalse();
        Instant cutoff = Instant.ofEpochSecond(Math.floorDiv(now.getEpochSecond() - 5 * 86_400L, 60) * 60);
        assertThat(browser.text("document.getElementById('keptnote').textContent"))
                .startsWith("Connections are kept from ")
                .contains(java.time.LocalTime.ofInstant(cutoff, ZONE).format(java.time.format.DateTimeFormatter.ofPattern("HH:mm:ss")));
        browser.screenshot(SHOTS.resolve("10-after-retention.png"));
        // A range the windows cover says nothing.
        open("#since=24h&by=exe&view=groups");
        andWait("[...document.querySelectorAll('#t-groups tbody tr')].find(r => JSON.parse(r.dataset.key).exe === '/usr/sbin/sshd').click()");
        assertThat(browser.until("!document.getElementById('slide').hidden && document.querySelectorAll('#t-conns tbody tr').length > 0", WAIT))
                .isTrue();
        assertThat(browser.eval("document.getElementById('keptnote').hidden").asBoolean()).isTrue();
        assertThat(browser.pageErrors()).isEmpty();
    }
}

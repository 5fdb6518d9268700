package io.peekd.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.peekd.flow.FlowRow;
import io.peekd.flow.IgnoreRules;
import io.peekd.store.Query;
import io.peekd.store.Reader;
import java.net.URLEncoder;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The JSON and CSV API over a real database, compared with what the store's own reader returns. */
class WebApiTest {
    @TempDir
    static Path dir;
    static WebFixture web;

    @BeforeAll
    static void start() throws Exception {
        web = WebFixture.start(dir);
    }

    @AfterAll
    static void stop() {
        if (web != null) web.close();
    }

    /** Sums straight from the database through the store's reader, not through the dashboard's SQL. */
    private static long[] dbSums(Instant since, String exe) {
        try (Reader r = Reader.open(web.db.file)) {
            long[] s = new long[3];
            for (FlowRow row : r.query(new Query(since, null, null, exe, 0))) {
                s[0] += row.sent();
                s[1] += row.recv();
                s[2] += row.conns();
            }
            return s;
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** Without it every answer of more than a few kilobytes waited 40 ms for a delayed ACK (see WebServer.noDelay). */
    @Test
    void theServerSendsWithoutNaglesDelay() {
        assertThat(System.getProperty(WebServer.NO_DELAY)).isEqualTo("true");
    }

    @Test
    void summaryOfTheDefaultRangeAndOfAMonthMatchTheDatabase() throws Exception {
        JsonNode day = web.json("/api/summary");
        long from = day.get("from").asLong();
        long[] want = dbSums(Instant.ofEpochSecond(from), null);
        assertThat(want[0]).isPositive();
        assertThat(new long[] {day.get("sent").asLong(), day.get("recv").asLong(), day.get("conns").asLong()})
                .containsExactly(want);
        assertThat(day.get("to").asLong() - from).isEqualTo(86_400);

        JsonNode month = web.json("/api/summary?since=30d");
        long[] all = web.db.sums(r -> true);
        assertThat(month.get("sent").asLong()).isEqualTo(all[0]).isGreaterThan(day.get("sent").asLong());
        assertThat(month.get("recv").asLong()).isEqualTo(all[1]);
        assertThat(month.get("rows").asLong()).isEqualTo(web.db.rows.size());
        assertThat(month.get("processes").asLong()).isEqualTo(5);
    }

    @Test
    void groupsByExeAndFilterByExeAgree() throws Exception {
        JsonNode g = web.json("/api/groups?since=30d&by=exe");
        Map<String, Long> sent = new HashMap<>();
        g.get("groups").forEach(x -> sent.put(x.get("key").get("exe").asText(), x.get("sent").asLong()));
        assertThat(sent).containsEntry("/usr/bin/curl", web.db.sums(r -> r.id() == TestDb.CURL)[0])
                .containsEntry("/usr/sbin/sshd", 777_777L + 1_000_000L)
                .hasSize(5);
        // Largest total first.
        assertThat(g.get("groups").get(0).get("key").get("exe").asText()).isEqualTo("/usr/lib/firefox/firefox");

        JsonNode only = web.json("/api/summary?since=30d&exe=" + enc("/usr/bin/curl"));
        long[] curl = dbSums(Instant.EPOCH, "/usr/bin/curl");
        assertThat(only.get("sent").asLong()).isEqualTo(curl[0]);
        assertThat(only.get("recv").asLong()).isEqualTo(curl[1]);
    }

    @Test
    void groupsByAnyDimensionIncludingTwoAtOnce() throws Exception {
        for (String dim : List.of("name", "cmdline", "sha256", "parent", "pname", "user", "uid", "container", "proto",
                "family", "laddr", "lport", "raddr", "rport", "domain", "pid")) {
            JsonNode g = web.json("/api/groups?since=30d&by=" + dim);
            long total = 0;
            for (JsonNode x : g.get("groups")) total += x.get("sent").asLong();
            assertThat(total).as(dim).isEqualTo(web.db.sums(r -> true)[0]);
        }
        JsonNode two = web.json("/api/groups?since=30d&by=user,rport&order=conns");
        assertThat(two.get("by").toString()).isEqualTo("[\"user\",\"rport\"]");
        JsonNode first = two.get("groups").get(0);
        assertThat(first.get("key").has("user")).isTrue();
        assertThat(first.get("key").has("rport")).isTrue();
        // Unknown values (ICMP has no port) group under null, and an empty filter value selects them.
        JsonNode noDomain = web.json("/api/summary?since=30d&domain=");
        assertThat(noDomain.get("sent").asLong()).isEqualTo(web.db.sums(r -> r.domain() == null)[0]);
        JsonNode twoExes = web.json("/api/summary?since=30d&exe=" + enc("/usr/bin/curl") + "&exe=" + enc("/usr/bin/wget"));
        assertThat(twoExes.get("sent").asLong())
                .isEqualTo(web.db.sums(r -> r.id() == TestDb.CURL || r.id() == TestDb.WGET)[0]);
    }

    @Test
    void timeseriesBucketsAddUpToTheSummary() throws Exception {
        for (String q : List.of("since=24h", "since=24h&bucket=hour&by=exe&series=2", "since=30d&bucket=day&by=rport",
                "since=1h&bucket=60")) {
            JsonNode ts = web.json("/api/timeseries?" + q);
            JsonNode sum = web.json("/api/summary?" + q.replaceAll("&bucket=[a-z0-9]+", "").replaceAll("&by=[a-z]+", "")
                    .replaceAll("&series=\\d+", ""));
            long sent = 0, recv = 0;
            for (JsonNode s : ts.get("series")) {
                for (JsonNode v : s.get("sent")) sent += v.asLong();
                for (JsonNode v : s.get("recv")) recv += v.asLong();
            }
            assertThat(sent).as(q).isEqualTo(sum.get("sent").asLong());
            assertThat(recv).as(q).isEqualTo(sum.get("recv").asLong());
            long bucket = ts.get("bucket").asLong();
            JsonNode times = ts.get("times");
            for (int i = 1; i < times.size(); i++) assertThat(times.get(i).asLong() - times.get(i - 1).asLong()).isEqualTo(bucket);
        }
        // Each series holds its own group's bytes.
        JsonNode byExe = web.json("/api/timeseries?since=30d&by=exe&bucket=hour");
        for (JsonNode s : byExe.get("series")) {
            String exe = s.get("key").asText();
            long recv = 0;
            for (JsonNode v : s.get("recv")) recv += v.asLong();
            assertThat(recv).as(exe).isEqualTo(web.db.sums(r -> exe.equals(r.id().exe()))[1]);
        }
        JsonNode byPort = web.json("/api/timeseries?since=30d&by=rport&bucket=day");
        for (JsonNode s : byPort.get("series")) {
            int port = s.get("key").asInt();
            long sent = 0;
            for (JsonNode v : s.get("sent")) sent += v.asLong();
            assertThat(sent).as("port " + port).isEqualTo(web.db.sums(r -> r.rport() == port)[0]);
        }
        JsonNode top2 = web.json("/api/timeseries?since=24h&by=exe&series=2");
        List<String> keys = new ArrayList<>();
        top2.get("series").forEach(s -> keys.add(s.get("key").isNull() ? null : s.get("key").asText()));
        assertThat(keys).hasSize(3).contains("/usr/lib/firefox/firefox").containsNull(); // the rest: "other"
        assertThat(web.json("/api/timeseries?since=30d&bucket=day").get("bucket").asLong()).isEqualTo(86_400);
        // Every bucket holds exactly its own windows, whichever of the raw rows, the hour and the
        // day rollups it was read from: day buckets in UTC may take whole days from rollup_day,
        // hour buckets only whole hours, and a 30-minute bucket only raw rows.
        for (String q : List.of("since=30d&bucket=day", "since=30d&bucket=hour", "since=3d&bucket=1800")) {
            JsonNode ts = web.json("/api/timeseries?" + q);
            long bucket = ts.get("bucket").asLong();
            JsonNode times = ts.get("times");
            JsonNode all = ts.get("series").get(0);
            long from = ts.get("from").asLong(), to = ts.get("to").asLong();
            for (int i = 0; i < times.size(); i++) {
                long lo = Math.max(from, times.get(i).asLong()), hi = Math.min(to, times.get(i).asLong() + bucket);
                long[] want = web.db.sums(r -> r.time().getEpochSecond() >= lo && r.time().getEpochSecond() < hi);
                assertThat(new long[] {all.get("sent").get(i).asLong(), all.get("recv").get(i).asLong()})
                        .as("%s bucket %d", q, lo).containsExactly(want[0], want[1]);
            }
        }
    }

    @Test
    void processTreeHangsChildrenUnderTheirParentExecutable() throws Exception {
        JsonNode tree = web.json("/api/processes?since=30d").get("tree");
        Map<String, List<String>> kids = new HashMap<>();
        Map<String, Long> sent = new HashMap<>();
        tree.forEach(root -> {
            List<String> k = new ArrayList<>();
            root.get("children").forEach(c -> k.add(c.get("exe").asText()));
            kids.put(root.get("exe").asText(), k);
            sent.put(root.get("exe").asText(), root.get("sent").asLong());
        });
        assertThat(kids.get("/usr/bin/bash")).containsExactlyInAnyOrder("/usr/bin/curl", "/usr/bin/wget", "/tmp/=cmd|calc");
        assertThat(kids.get("/usr/lib/systemd/systemd")).containsExactlyInAnyOrder("/usr/lib/firefox/firefox", "/usr/sbin/sshd");
        assertThat(sent.get("/usr/bin/bash"))
                .isEqualTo(web.db.sums(r -> r.id().pexe().equals("/usr/bin/bash"))[0]);
    }

    @Test
    void destinationsCarryAPerProcessBreakdown() throws Exception {
        JsonNode d = web.json("/api/destinations?since=30d");
        JsonNode example = null;
        for (JsonNode x : d.get("destinations")) if ("93.184.216.34".equals(x.get("raddr").asText())) example = x;
        assertThat(example).isNotNull();
        assertThat(example.get("domain").asText()).isEqualTo("example.org");
        assertThat(example.get("ports").asText()).isEqualTo("443");
        assertThat(example.get("processes")).hasSize(1);
        assertThat(example.get("processes").get(0).get("exe").asText()).isEqualTo("/usr/bin/curl");
        assertThat(example.get("recv").asLong()).isEqualTo(web.db.sums(r -> "93.184.216.34".equals(r.raddr()))[1]);
        // Every destination against the database (a month reads whole hours from the hourly rollup).
        java.util.Map<String, long[]> shown = new java.util.HashMap<>();
        for (JsonNode x : d.get("destinations")) {
            long[] t = shown.computeIfAbsent(x.get("raddr").asText(""), k -> new long[2]);
            t[0] += x.get("sent").asLong();
            t[1] += x.get("recv").asLong();
            long ps = x.path("more").path("sent").asLong(0), pr = x.path("more").path("recv").asLong(0);
            assertThat(x.get("processes").size()).isLessThanOrEqualTo(10).isLessThanOrEqualTo(x.get("process_count").asInt());
            for (JsonNode p : x.get("processes")) {
                ps += p.get("sent").asLong();
                pr += p.get("recv").asLong();
            }
            assertThat(new long[] {ps, pr}).as("processes of %s", x).containsExactly(x.get("sent").asLong(), x.get("recv").asLong());
        }
        shown.forEach((addr, t) -> {
            long[] want = web.db.sums(r -> addr.equals(r.raddr() == null ? "" : r.raddr()));
            assertThat(t).as(addr).containsExactly(want[0], want[1]);
        });
    }

    @Test
    void flowsAreTheStoredRowsInTheJsonContract() throws Exception {
        JsonNode f = web.json("/api/flows?since=30d&exe=" + enc("/usr/bin/curl") + "&limit=5");
        assertThat(f.get("rows")).hasSize(5);
        JsonNode first = f.get("rows").get(0);
        for (String field : io.peekd.store.RowJson.FIELDS) assertThat(first.has(field)).as(field).isTrue();
        assertThat(first.get("exe").asText()).isEqualTo("/usr/bin/curl");
        // Newest first.
        assertThat(Instant.parse(first.get("time").asText())).isAfter(Instant.parse(f.get("rows").get(4).get("time").asText()));
        JsonNode rest = web.json("/api/flows?since=30d&exe=" + enc("/usr/bin/curl") + "&limit=100&offset=5");
        assertThat(rest.get("rows")).hasSize(16 - 5);
    }

    @Test
    void csvExportHoldsEveryRowOfTheRange() throws Exception {
        HttpResponse<String> r = web.get("/api/export?since=30d");
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValue("text/csv; charset=utf-8");
        assertThat(r.headers().firstValue("Content-Disposition").orElseThrow()).startsWith("attachment; filename=\"peekd-flows-");
        List<List<String>> rows = parseCsv(r.body());
        List<String> head = rows.getFirst();
        assertThat(head.subList(0, io.peekd.store.RowJson.FIELDS.size())).isEqualTo(io.peekd.store.RowJson.FIELDS);
        int sentCol = head.indexOf("sent"), exeCol = head.indexOf("exe"), cmdCol = head.indexOf("cmdline");
        long sent = 0;
        for (List<String> row : rows.subList(1, rows.size())) sent += Long.parseLong(row.get(sentCol));
        assertThat(rows).hasSize(web.db.rows.size() + 1);
        assertThat(sent).isEqualTo(web.db.sums(x -> true)[0]);
        // A cell a spreadsheet would run as a formula is defused, and quoting survives.
        List<String> evil = rows.stream().filter(x -> x.get(exeCol).equals("/tmp/=cmd|calc")).findFirst().orElseThrow();
        assertThat(evil.get(cmdCol)).isEqualTo("'=HYPERLINK(\"x\")");

        HttpResponse<String> byExe = web.get("/api/export?since=30d&by=exe");
        List<List<String>> g = parseCsv(byExe.body());
        assertThat(g.getFirst()).startsWith("exe", "sent", "recv", "conns");
        assertThat(g).hasSize(6);
    }

    /** A small RFC 4180 reader, so the test checks the quoting rather than trusting it. */
    static List<List<String>> parseCsv(String text) {
        List<List<String>> out = new ArrayList<>();
        List<String> row = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (quoted) {
                if (c == '"' && i + 1 < text.length() && text.charAt(i + 1) == '"') {
                    cell.append('"');
                    i++;
                } else if (c == '"') {
                    quoted = false;
                } else {
                    cell.append(c);
                }
            } else if (c == '"') {
                quoted = true;
            } else if (c == ',') {
                row.add(cell.toString());
                cell.setLength(0);
            } else if (c == '\r' && i + 1 < text.length() && text.charAt(i + 1) == '\n') {
                row.add(cell.toString());
                cell.setLength(0);
                out.add(row);
                row = new ArrayList<>();
                i++;
            } else {
                cell.append(c);
            }
        }
        return out;
    }

    @Test
    void badInputGetsA400ThatSaysWhatIsWrong() throws Exception {
        Map<String, String> cases = Map.of(
                "/api/summary?since=abc", "since:",
                "/api/groups?by=colour", "unknown dimension \"colour\"",
                "/api/groups", "by: name one to three dimensions",
                "/api/summary?sincе=1h", "unknown parameter",
                "/api/flows?limit=0", "limit: expected an integer 1..100000",
                "/api/summary?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", "the time range is empty",
                "/api/summary?from=yesterday", "from: expected a time",
                "/api/summary?rport=https", "rport: expected a number",
                "/api/timeseries?since=30d&bucket=1", "at most 5000",
                "/api/summary?since=1h&from=2026-01-01T00:00:00Z", "either since or from");
        for (var c : cases.entrySet()) {
            HttpResponse<String> r = web.get(c.getKey().replace(" ", "%20").replace("е", "%D0%B5"));
            assertThat(r.statusCode()).as(c.getKey()).isEqualTo(400);
            assertThat(r.headers().firstValue("Content-Type")).hasValue("application/json; charset=utf-8");
            assertThat(WebFixture.JSON.readTree(r.body()).get("error").asText()).as(c.getKey()).contains(c.getValue());
        }
        assertThat(web.get("/api/nothing").statusCode()).isEqualTo(404);
        // Hostile text is bound as a value: it matches nothing and breaks nothing.
        JsonNode inj = web.json("/api/summary?since=30d&exe=" + enc("x' OR 1=1 --"));
        assertThat(inj.get("rows").asLong()).isZero();
    }

    @Test
    void ignoreRulesAreWrittenValidatedAndPickedUpByAWatcher() throws Exception {
        String csrf = web.csrf();
        AtomicReference<IgnoreRules> applied = new AtomicReference<>();
        try (AutoCloseable watch = web.ignore.watch(applied::set)) {
            HttpResponse<String> add = web.post("/api/ignore", "{\"op\":\"add\",\"kind\":\"ips\",\"value\":\"203.0.113.0/24\"}",
                    "Content-Type", "application/json", Guard.CSRF_HEADER, csrf);
            assertThat(add.statusCode()).as(add.body()).isEqualTo(200);
            assertThat(WebFixture.JSON.readTree(add.body()).get("ips").toString()).isEqualTo("[\"203.0.113.0/24\"]");
            assertThat(Files.readString(web.ignore.path())).contains("ignore_ips = ['203.0.113.0/24']");
            FlowRow probe = TestDb.row(Instant.now(), TestDb.CURL, "tcp", 4, "203.0.113.9", 443, null, 1, 1);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while ((applied.get() == null || !applied.get().ignores(probe)) && System.nanoTime() < deadline) Thread.sleep(100);
            assertThat(applied.get().ignores(probe)).isTrue();

            HttpResponse<String> bad = web.post("/api/ignore", "{\"op\":\"add\",\"kind\":\"ports\",\"value\":\"99999\"}",
                    "Content-Type", "application/json", Guard.CSRF_HEADER, csrf);
            assertThat(bad.statusCode()).isEqualTo(400);
            assertThat(bad.body()).contains("0..65535");

            HttpResponse<String> rm = web.post("/api/ignore", "{\"op\":\"remove\",\"kind\":\"ips\",\"value\":\"203.0.113.0/24\"}",
                    "Content-Type", "application/json", Guard.CSRF_HEADER, csrf);
            assertThat(rm.statusCode()).isEqualTo(200);
            deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (applied.get().ignores(probe) && System.nanoTime() < deadline) Thread.sleep(100);
            assertThat(applied.get().ignores(probe)).isFalse();
        }
        // A file broken by hand is reported, and never overwritten by the dashboard.
        Files.writeString(web.ignore.path(), "ignore_ports = [\"x\"\n");
        assertThat(web.json("/api/ignore").get("error").asText()).contains("not valid TOML");
        HttpResponse<String> refused = web.post("/api/ignore", "{\"op\":\"add\",\"kind\":\"ports\",\"value\":\"8080\"}",
                "Content-Type", "application/json", Guard.CSRF_HEADER, csrf);
        assertThat(refused.statusCode()).isEqualTo(409);
        assertThat(Files.readString(web.ignore.path())).isEqualTo("ignore_ports = [\"x\"\n");
        Files.delete(web.ignore.path());
    }

    @Test
    void staticAssetsHaveTypesAndCacheHeaders() throws Exception {
        HttpResponse<String> page = web.get("/");
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("Cache-Control")).hasValue("no-cache");
        assertThat(page.headers().firstValue("Content-Security-Policy").orElseThrow()).contains("script-src 'self'");
        assertThat(page.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
        String js = page.body().replaceAll("(?s).*src=\"(/static/app\\.js\\?v=[0-9a-f]+)\".*", "$1");
        HttpResponse<String> app = web.get(js);
        assertThat(app.headers().firstValue("Content-Type")).hasValue("text/javascript; charset=utf-8");
        assertThat(app.headers().firstValue("Cache-Control")).hasValue("public, max-age=31536000, immutable");
        String etag = app.headers().firstValue("ETag").orElseThrow();
        HttpResponse<String> again = web.http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(web.base + js))
                .header("If-None-Match", etag).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(again.statusCode()).isEqualTo(304);
        String charts = page.body().replaceAll("(?s).*content=\"(/static/vendor/echarts[^\"]+)\".*", "$1");
        HttpResponse<byte[]> ec = web.http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(web.base + charts))
                .header("Accept-Encoding", "gzip").build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(ec.statusCode()).isEqualTo(200);
        assertThat(ec.headers().firstValue("Content-Encoding")).hasValue("gzip");
        assertThat(ec.headers().firstValue("Content-Type")).hasValue("text/javascript; charset=utf-8");
        assertThat(web.get("/static/../../etc/passwd").statusCode()).isEqualTo(404);
        assertThat(web.get("/api/alerts").body()).contains("\"alerts\":[]");
    }
}

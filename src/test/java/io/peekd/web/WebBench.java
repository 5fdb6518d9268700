package io.peekd.web;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.Store;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * Dashboard benchmark (run by bench/web-bench.sh, not by the test suite): builds a history of
 * N rows (default 1 000 000) over 30 days with the real store, serves it, and measures each API
 * call the page makes and the page's first render in headless Chromium.
 */
public final class WebBench {
    private WebBench() {
    }

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args.length > 0 ? args[0] : "bench/out/web").toAbsolutePath();
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 1_000_000;
        int iterations = args.length > 2 ? Integer.parseInt(args[2]) : 40;
        boolean pageOnly = args.length > 3 && args[3].equals("page");
        Path data = Files.createDirectories(dir.resolve("data"));
        Path db = data.resolve("peekd.db");
        Instant now = Instant.now();
        if (!Files.exists(db)) generate(db, n, now);
        else {
            System.out.println("reusing " + db + " (delete it to regenerate)");
            // Upgrades a file an older peekd built, as the daemon would at start.
            Store.open(db).close();
        }

        WebOptions o = new WebOptions(InetAddress.ofLiteral("127.0.0.1"), 0, null, List.of(), 30, Duration.ofHours(24), 200,
                db, new IgnoreFile(dir.resolve("ignore_extra.toml")), Optional.empty(), ZoneId.systemDefault());
        StringBuilder report = new StringBuilder();
        // Baseline and candidate in one run, on one database, alternating call by call, so that
        // the ratios hold whatever else the shared machine is doing: "raw" is every view over
        // the raw windows (the dashboard before it read rollups), "rollups" is what it does now.
        try (WebServer rawServer = WebServer.start(o, false); WebServer s = WebServer.start(o, true)) {
            String rawBase = "http://127.0.0.1:" + rawServer.address().getPort();
            String base = "http://127.0.0.1:" + s.address().getPort();
            HttpClient http = HttpClient.newHttpClient();
            if (!pageOnly) report.append("| call | range | raw p50 ms | raw p95 ms | rollups p50 ms | rollups p95 ms"
                    + " | rollups max ms | p95 ratio raw/rollups | CPU ms/call raw | CPU ms/call rollups |\n"
                    + "|---|---|---|---|---|---|---|---|---|---|\n");
            List<String> calls = List.of("/api/summary?", "/api/timeseries?by=exe&series=8&", "/api/groups?by=exe&limit=200&",
                    "/api/groups?by=rport&limit=10&", "/api/destinations?limit=200&", "/api/processes?limit=200&",
                    "/api/flows?limit=200&exe=/usr/bin/app-7&", "/api/alerts?limit=500&");
            List<Double> all24 = new ArrayList<>(), all24raw = new ArrayList<>();
            for (String range : pageOnly ? List.<String>of() : List.of("since=1h", "since=24h", "since=7d", "since=30d")) {
                for (String c : calls) {
                    // The raw baseline takes seconds per call over weeks; fewer rounds keep the run short.
                    int rawRounds = range.equals("since=30d") ? 3 : range.equals("since=7d") ? Math.max(5, iterations / 4) : iterations;
                    long cpu0 = cpuNanos();
                    double[] rawMs = measure(http, rawBase + c + range, rawRounds);
                    double rawCpu = (cpuNanos() - cpu0) / 1e6 / (rawRounds + 1);
                    cpu0 = cpuNanos();
                    double[] ms = measure(http, base + c + range, iterations);
                    double cpu = (cpuNanos() - cpu0) / 1e6 / (iterations + 1);
                    if (range.equals("since=24h")) {
                        for (double m : ms) all24.add(m);
                        for (double m : rawMs) all24raw.add(m);
                    }
                    report.append(String.format("| `%s` | %s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |%n",
                            c.replaceAll("[?&]$", ""), range.substring(6), pct(rawMs, 50), pct(rawMs, 95), pct(ms, 50),
                            pct(ms, 95), ms[ms.length - 1], pct(rawMs, 95) / pct(ms, 95), rawCpu, cpu));
                }
            }
            if (!pageOnly) {
                double[] a = all24.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                double[] ar = all24raw.stream().mapToDouble(Double::doubleValue).sorted().toArray();
                report.append(String.format("%nAll calls of the default view (24 h): p95 %.1f ms with rollups, %.1f ms raw"
                        + " (ratio %.1f), over %d requests each.%n", pct(a, 95), pct(ar, 95), pct(ar, 95) / pct(a, 95), a.length));
                double[] exRaw = measure(http, rawBase + "/api/export?since=24h", 3);
                double[] ex = measure(http, base + "/api/export?since=24h", 3);
                report.append(String.format("CSV export of 24 h (every raw row; the same either way): %.0f ms raw server,"
                        + " %.0f ms rollup server.%n", exRaw[exRaw.length - 1], ex[ex.length - 1]));
            }

            try (Chromium c = Chromium.launch(dir.resolve("chromium"))) {
                c.size(1280, 800);
                c.send("Network.enable", Map.of());
                c.send("Network.setCacheDisabled", Map.of("cacheDisabled", true));
                for (String b : List.of(rawBase, base)) {
                    double[] first = new double[7], charts = new double[7];
                    for (int i = 0; i < first.length; i++) {
                        c.navigate("about:blank");
                        c.until("location.href === 'about:blank'", Duration.ofSeconds(10));
                        c.navigate(b + "/");
                        if (!c.until("document.body && document.body.dataset.chartsRender", Duration.ofSeconds(60)))
                            throw new IllegalStateException("page did not render: " + c.eval("JSON.stringify({data:"
                                    + " document.body && document.body.dataset, error: (document.getElementById('error') || {}).textContent,"
                                    + " href: location.href})").asText());
                        // Milliseconds from the start of navigation, as the page measured them.
                        first[i] = c.eval("+document.body.dataset.firstRender").asDouble();
                        charts[i] = c.eval("+document.body.dataset.chartsRender").asDouble();
                    }
                    // Where the last load's time went: each request's start and end, and the page's own marks.
                    report.append("Last load, ").append(b.equals(base) ? "rollup" : "raw").append(" server (ms from navigation start): ")
                            .append(c.eval("""
                                    (() => {
                                      const nav = performance.getEntriesByType('navigation')[0];
                                      const res = performance.getEntriesByType('resource').map((e) =>
                                        e.name.replace(location.origin, '').replace(/[?].*$/, '') + ' '
                                        + Math.round(e.startTime) + '-' + Math.round(e.responseEnd));
                                      const marks = performance.getEntriesByType('mark').map((e) => e.name + ' ' + Math.round(e.startTime));
                                      return ['page 0-' + Math.round(nav.responseEnd),
                                        'DOMContentLoaded ' + Math.round(nav.domContentLoadedEventEnd), ...res, ...marks].join(', ');
                                    })()""").asText()).append('\n');
                    Arrays.sort(first);
                    Arrays.sort(charts);
                    report.append(String.format("First render in Chromium, %s server (24 h, cache disabled, 1280x800), from"
                            + " navigation start: cards and table median %.0f ms (max %.0f), with the charts median %.0f ms"
                            + " (max %.0f), over %d loads.%n", b.equals(base) ? "rollup" : "raw", pct(first, 50),
                            first[first.length - 1], pct(charts, 50), charts[charts.length - 1], first.length));
                }
            }
        }
        report.insert(0, "rows: " + n + ", database " + Files.size(db) / (1 << 20) + " MiB, CPU cores: "
                + Runtime.getRuntime().availableProcessors() + ", load average at the end: "
                + java.lang.management.ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage() + "\n\n");
        System.out.println(report);
        Files.writeString(dir.resolve("results.md"), report.toString());
    }

    /**
     * CPU time of this whole process (server and client): on a machine shared with other work,
     * wall-clock latency includes waiting for a core, CPU time does not.
     */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static double[] measure(HttpClient http, String url, int n) throws Exception {
        HttpRequest req = HttpRequest.newBuilder(URI.create(url)).build();
        for (int i = 0; i < 1; i++) check(http.send(req, HttpResponse.BodyHandlers.discarding()), url);
        double[] ms = new double[n];
        for (int i = 0; i < n; i++) {
            long t0 = System.nanoTime();
            check(http.send(req, HttpResponse.BodyHandlers.ofByteArray()), url);
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms;
    }

    private static void check(HttpResponse<?> r, String url) {
        if (r.statusCode() != 200) throw new IllegalStateException(url + " -> " + r.statusCode());
    }

    private static double pct(double[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    /** N rows over 30 days: 300 processes, 5000 remote endpoints, one row per 5 s window and flow. */
    static void generate(Path db, int n, Instant now) throws Exception {
        Random rnd = new Random(42);
        List<Identity> ids = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            ids.add(TestDb.id("/usr/bin/app-" + i, "app-" + i, "app-" + i + " --serve", String.format("%02x", i % 256), 1000 + i,
                    "/usr/bin/parent-" + (i % 20), "parent-" + (i % 20), 1000 + i % 7, "user" + i % 7, i % 10 == 0 ? "ct" + i : null));
        }
        long span = Duration.ofDays(30).toSeconds();
        long start = now.getEpochSecond() - span;
        long t0 = System.nanoTime();
        try (Store s = Store.open(db)) {
            List<FlowRow> batch = new ArrayList<>(10_000);
            for (int i = 0; i < n; i++) {
                long t = start + (long) i * span / n;
                t -= t % 5;
                Identity id = ids.get((int) Math.min(ids.size() - 1, Math.abs(rnd.nextGaussian()) * 60));
                int remote = rnd.nextInt(5000);
                String raddr = "198.18." + (remote / 250) + "." + (remote % 250 + 1);
                int rport = new int[] {443, 443, 443, 80, 53, 22, 8080, 5222}[remote % 8];
                batch.add(new FlowRow(Instant.ofEpochSecond(t), id, rport == 53 ? "udp" : "tcp", 4, "10.0.0.2",
                        30000 + rnd.nextInt(30000), raddr, rport, remote % 3 == 0 ? "host" + remote + ".example" : null,
                        remote % 3 == 0 ? "dns" : null, remote % 3 == 0 ? "high" : null, rnd.nextInt(100_000),
                        rnd.nextInt(2_000_000), 1));
                if (batch.size() == 10_000) {
                    while (!s.writer().submit(batch)) Thread.sleep(50);
                    batch.clear();
                }
            }
            if (!batch.isEmpty()) s.writer().submit(batch);
            s.writer().flush(Duration.ofMinutes(30));
        }
        System.out.printf("generated %d rows in %.0f s%n", n, (System.nanoTime() - t0) / 1e9);
    }
}

package io.peekd.daemon;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.capture.CaptureStats;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.metrics.ExeBytes;
import io.peekd.metrics.PromTextChecks;
import io.peekd.metrics.PrometheusServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metrics documents from a hand-made snapshot, written to real files and served over real HTTP. */
class MetricsReporterTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static DaemonStats stats(long mapFull) {
        CaptureStats c = new CaptureStats(1, 2, 3, 0, mapFull, 1000, 2000, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 15);
        Map<String, Long> events = new LinkedHashMap<>();
        events.put("exec", 6L);
        events.put("new_flow", 3L);
        events.put("exit", 2L);
        events.put("close", 1L);
        return new DaemonStats(42, Instant.now().minusSeconds(90), "tracepoints", c, events, 17, Instant.now(), 5, 1, 0,
                null, null, Map.of("alerts", new long[] {4, 0, 2}), 33, Map.of("dns", 0L), "attached");
    }

    private static FlowRow row(String exe, long sent, long recv) {
        return new FlowRow(Instant.EPOCH, new Identity(exe, "x", null, null, 1, null, null, null, null, 0, 0, "root", null, null),
                "tcp", 4, null, -1, null, -1, null, null, null, sent, recv, 1);
    }

    @Test
    void jsonAndPrometheusCarryTheSameCountersAndRegisteredGauges(@TempDir Path dir) throws Exception {
        ExeBytes exe = new ExeBytes(2);
        exe.add(List.of(row("/usr/bin/a\"b", 10, 20), row("/usr/bin/c", 1, 2), row("/usr/bin/d", 100, 200)));
        MetricsReporter m = new MetricsReporter(() -> stats(7), exe, dir.resolve("metrics.json"), Duration.ofHours(1));
        AtomicLong queue = new AtomicLong(3);
        m.gauge("hash_queue", "Executables waiting to be hashed.", queue::get);
        m.gauge("cache_exe_fds", "Executables held open.", () -> 12);
        m.gauge("broken", "Throws.", () -> {
            throw new IllegalStateException("no");
        });
        m.write();
        JsonNode j = new ObjectMapper().readTree(dir.resolve("metrics.json").toFile());
        assertThat(j.path("losses").path("map_full").asLong()).isEqualTo(7);
        assertThat(j.path("losses_total").asLong()).isEqualTo(stats(7).capture().losses());
        assertThat(j.path("events").path("exec").asLong()).isEqualTo(6);
        assertThat(j.path("hash_queue").asLong()).isEqualTo(3);
        assertThat(j.path("caches").path("exe_fds").asLong()).isEqualTo(12);
        assertThat(j.path("caches").path("processes").asLong()).isEqualTo(33);
        assertThat(j.path("gauges").path("broken").isNull()).isTrue();
        assertThat(j.path("subscribers").path("alerts").path("dropped").asLong()).isEqualTo(4);
        assertThat(j.path("uptime_seconds").asLong()).isGreaterThanOrEqualTo(90);
        assertThat(j.has("store")).isFalse();

        String p = m.prometheus();
        PromTextChecks.assertWellFormed(p);
        assertThat(p).contains("peekd_losses_total{kind=\"map_full\"} 7\n", "peekd_events_total{kind=\"exec\"} 6\n",
                "peekd_hash_queue 3\n", "peekd_broken NaN\n", "peekd_subscriber_dropped_total{subscriber=\"alerts\"} 4\n",
                "peekd_unattributed_bytes_total{direction=\"sent\"} 1000\n",
                "peekd_bytes_sent_total{exe=\"/usr/bin/a\\\"b\"} 10\n", "peekd_bytes_sent_total{exe=\"other\"} 100\n");
        assertThat(p).doesNotContain("/usr/bin/d");
    }

    @Test
    void anUnwritableRunDirIsSurvivedAndTheNextWriteSucceeds(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("gone/metrics.json");
        MetricsReporter m = new MetricsReporter(() -> stats(0), new ExeBytes(5), file, Duration.ofHours(1));
        m.write();
        assertThat(file).doesNotExist();
        Files.createDirectories(file.getParent());
        m.write();
        assertThat(file).exists();
        m.close();
        assertThat(file).as("removed at stop").doesNotExist();
    }

    @Test
    void theEndpointServesMetricsOnlyAndATakenPortIsAnError() throws Exception {
        try (PrometheusServer s = PrometheusServer.start(0, () -> "peekd_up 1\n")) {
            String base = "http://127.0.0.1:" + s.port();
            HttpResponse<String> ok = HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).isEqualTo("peekd_up 1\n");
            assertThat(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/other")).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(404);
            assertThat(HTTP.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(405);
        }
        try (PrometheusServer failing = PrometheusServer.start(0, () -> {
            throw new IllegalStateException("snapshot broke");
        })) {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + failing.port() + "/metrics")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(500);
            assertThat(r.body()).contains("snapshot broke");
        }
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            MetricsReporter m = new MetricsReporter(() -> stats(0), new ExeBytes(5), Path.of("/nonexistent/metrics.json"),
                    Duration.ofHours(1));
            m.start(taken.getLocalPort());
            assertThat(m.prometheusPort()).as("port taken: no endpoint, but no failure either").isZero();
            m.close();
        }
    }
}

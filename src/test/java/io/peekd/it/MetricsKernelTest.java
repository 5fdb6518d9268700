package io.peekd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.testkit.Tgen;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * metrics.json and the Prometheus endpoint of a real daemon, with real
 * traffic: the per-executable counters must equal what tgen moved.
 */
class MetricsKernelTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static String scrape(int port) throws Exception {
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(v -> assertThat(v).startsWith("text/plain; version=0.0.4"));
        return r.body();
    }

    static long sample(String text, String name, String exe) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\{exe=\"" + Pattern.quote(exe) + "\"} (\\d+)$").matcher(text);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    @Test
    void prometheusCountsBytesPerExecutableAndMetricsJsonIsRewritten() throws Exception {
        int port = freePort();
        try (DaemonHarness peekd = DaemonHarness.start("""

                [metrics]
                interval_seconds = 1
                prometheus_port = %d
                """.formatted(port))) {
            Path metrics = peekd.dir.resolve("run/metrics.json");
            assertThat(metrics).exists();
            Path srv = Tgen.copyAs("tg-prom-srv"), cli = Tgen.copyAs("tg-prom-cli");
            Tgen.Result c, s;
            try (Tgen.Running server = Tgen.start(srv, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "777777")) {
                c = Tgen.run(cli, "tcp-send", "--to", "127.0.0.1:" + server.port(), "--bytes", "777777", "--via", "write");
                s = server.await();
            }
            peekd.awaitTotals(cli, c.sent(), c.recv());
            peekd.awaitTotals(srv, s.sent(), s.recv());

            // Batches reach the metrics subscriber on its own thread: wait (bounded) for the scrape to show them.
            String text = scrape(port);
            for (int i = 0; i < 40 && sample(text, "peekd_bytes_received_total", srv.toString()) < s.recv(); i++) {
                Thread.sleep(250);
                text = scrape(port);
            }
            io.peekd.metrics.PromTextChecks.assertWellFormed(text);
            assertThat(sample(text, "peekd_bytes_sent_total", cli.toString())).isEqualTo(c.sent());
            assertThat(sample(text, "peekd_bytes_received_total", cli.toString())).isEqualTo(c.recv());
            assertThat(sample(text, "peekd_bytes_received_total", srv.toString())).isEqualTo(s.recv());
            assertThat(sample(text, "peekd_bytes_sent_total", "other")).isGreaterThanOrEqualTo(0);
            assertThat(text).contains("# TYPE peekd_bytes_sent_total counter", "# TYPE process_resident_memory_bytes gauge",
                    "peekd_events_total{kind=\"exec\"}", "peekd_losses_total{kind=\"map_full\"} 0");

            ObjectMapper json = new ObjectMapper();
            JsonNode first = json.readTree(metrics.toFile());
            JsonNode next = first;
            for (int i = 0; i < 40 && next.path("written").asText().equals(first.path("written").asText()); i++) {
                Thread.sleep(250);
                next = json.readTree(metrics.toFile());
            }
            assertThat(next.path("written").asText()).as("rewritten every interval").isNotEqualTo(first.path("written").asText());
            assertThat(next.path("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
            assertThat(next.path("process").path("rss_bytes").asLong()).isPositive();
            assertThat(next.path("process").path("cpu_seconds").asDouble()).isPositive();
            assertThat(next.path("events").path("exec").asLong()).isPositive();
            assertThat(next.path("losses_total").asLong()).isZero();
            assertThat(next.path("store").path("rows_written").asLong()).isPositive();
            assertThat(next.has("hash_queue")).isTrue();
            assertThat(next.path("caches").path("processes").asInt()).isPositive();
            assertThat(next.path("queues").has("writer_batches")).isTrue();
            assertThat(Files.list(metrics.getParent()).map(p -> p.getFileName().toString())).doesNotContain("metrics.json.tmp");

            // peekd status reads the same file.
            assertThat(peekd.cli("status")).contains("peekd is running: pid " + ProcessHandle.current().pid());
        }
    }

    @Test
    void statusShowsTheDaemonsCountersAsOfNowNotTheLastSnapshot() throws Exception {
        // A snapshot an hour apart: metrics.json keeps the counters of the start.
        try (DaemonHarness peekd = DaemonHarness.start("""

                [metrics]
                interval_seconds = 3600
                """)) {
            Path metrics = peekd.dir.resolve("run/metrics.json");
            assertThat(metrics).exists();
            Path srv = Tgen.copyAs("tg-stat-srv"), cli = Tgen.copyAs("tg-stat-cli");
            Tgen.Result c;
            try (Tgen.Running server = Tgen.start(srv, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "50000")) {
                c = Tgen.run(cli, "tcp-send", "--to", "127.0.0.1:" + server.port(), "--bytes", "50000", "--via", "write");
                server.await();
            }
            peekd.awaitTotals(cli, c.sent(), c.recv());
            JsonNode file = new ObjectMapper().readTree(metrics.toFile());
            JsonNode now = new ObjectMapper().readTree(peekd.cli("status", "--json"));
            assertThat(now.path("pid").asLong()).isEqualTo(ProcessHandle.current().pid());
            assertThat(now.path("capture").path("sendCalls").asLong())
                    .isGreaterThan(file.path("capture").path("sendCalls").asLong());
            assertThat(java.time.Instant.parse(now.path("written").asText()))
                    .isAfter(java.time.Instant.parse(file.path("written").asText()))
                    .isAfter(java.time.Instant.now().minusSeconds(10));
            // The text form says nothing about old counters when they are not old.
            assertThat(peekd.cli("status")).contains("peekd is running").doesNotContain("counters below as of");
        }
    }
}

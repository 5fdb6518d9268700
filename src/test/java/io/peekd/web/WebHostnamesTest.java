package io.peekd.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.peekd.flow.FlowRow;
import io.peekd.store.Store;
import io.peekd.testkit.Tgen;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Reverse DNS names in the dashboard, with the system resolver. Only 127.0.0.1 is looked up,
 * which /etc/hosts names "localhost": the tests send no query to a DNS server.
 */
class WebHostnamesTest {
    static final Duration WAIT = Duration.ofSeconds(45);
    static WebServer server;
    static String base;
    static final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createDirectories(Tgen.testDir().resolve("web-hostnames"));
        Path db = dir.resolve("peekd.db");
        Files.deleteIfExists(db);
        Instant now = Instant.now();
        List<FlowRow> rows = List.of(
                TestDb.row(now.minusSeconds(120), TestDb.CURL, "tcp", 4, "127.0.0.1", 8443, "svc.internal.test", 1234, 5678),
                TestDb.row(now.minusSeconds(60), TestDb.FIREFOX, "icmp", 0, null, -1, null, 64, 64));
        try (Store s = Store.open(db)) {
            if (!s.writer().submit(rows)) throw new IllegalStateException("store queue full");
            s.writer().flush(Duration.ofSeconds(30));
        }
        WebOptions o = new WebOptions(InetAddress.ofLiteral("127.0.0.1"), 0, null, List.of(), 30, Duration.ofHours(24),
                200, db, new IgnoreFile(dir.resolve("ignore_extra.toml")), Optional.empty(), ZoneId.systemDefault(), true);
        server = WebServer.start(o);
        base = "http://127.0.0.1:" + server.address().getPort();
    }

    @AfterAll
    static void stop() {
        if (server != null) server.close();
    }

    static HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theApiNamesLoopbackAndRefusesNamesForAddresses() throws Exception {
        JsonNode meta = WebFixture.JSON.readTree(get("/api/meta").body());
        assertThat(meta.get("reverse_dns").asBoolean()).isTrue();
        HttpResponse<String> r = get("/api/hostnames?addr=127.0.0.1");
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode names = WebFixture.JSON.readTree(r.body()).get("names");
        assertThat(names.get("127.0.0.1").asText()).isEqualTo("localhost");
        // Host names are not addresses: no forward lookups through this endpoint.
        HttpResponse<String> bad = get("/api/hostnames?addr=example.org");
        assertThat(bad.statusCode()).isEqualTo(400);
        assertThat(bad.body()).contains("addr: expected an IPv4 or IPv6 address");
        assertThat(get("/api/hostnames?addrs=127.0.0.1").statusCode()).isEqualTo(400);
    }

    @Test
    void aHangingResolverDoesNotHoldTheAnswer() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        try (Hostnames h = new Hostnames(a -> {
            if (a.isLoopbackAddress()) return Optional.of("fast.example");
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return Optional.of("slow.example");
        })) {
            Map<String, String> got = h.names(List.of(InetAddress.ofLiteral("127.0.0.1"), InetAddress.ofLiteral("192.0.2.1")));
            // The slow one is left out, to be asked again; the fast one is there.
            assertThat(got).containsExactly(Map.entry("127.0.0.1", "fast.example"));
            release.countDown();
            Map<String, String> later = Map.of();
            for (int i = 0; i < 20 && !later.containsKey("192.0.2.1"); i++) {
                later = h.names(List.of(InetAddress.ofLiteral("192.0.2.1")));
            }
            assertThat(later).containsEntry("192.0.2.1", "slow.example");
        }
    }

    @Test
    void destinationsAndTheConnectionDetailShowTheReverseName() throws Exception {
        try (Chromium c = Chromium.launch(Tgen.testDir())) {
            c.size(1280, 800);
            c.navigate(base + "/#since=1h&view=destinations");
            assertThat(c.until("document.body.dataset.loading === '0' && document.querySelector('#t-dest span[data-ptr=\"127.0.0.1\"]')"
                    + " && document.querySelector('#t-dest span[data-ptr=\"127.0.0.1\"]').textContent !== ''", WAIT))
                    .as("reverse name in the destination table").isTrue();
            assertThat(c.text("document.querySelector('#t-dest span[data-ptr=\"127.0.0.1\"]').textContent")).isEqualTo("localhost");
            // The stored domain stays in its own column.
            assertThat(c.text("[...document.querySelectorAll('#t-dest thead th')].map(h => h.textContent).join('|')"))
                    .isEqualTo("Remote address|Host name|Reverse DNS|Ports|Protocols|Sent|Received|Conns|Processes|Last seen");
            assertThat(c.text("document.querySelector('#t-dest tbody tr').cells[1].textContent")).isEqualTo("svc.internal.test");

            // Grouped by remote address, the traffic table names it too.
            c.navigate("about:blank");
            c.navigate(base + "/#since=1h&by=raddr&view=groups");
            assertThat(c.until("document.body.dataset.loading === '0' && [...document.querySelectorAll('#t-groups span[data-ptr]')]"
                    + ".some(s => s.textContent === 'localhost')", WAIT)).as("reverse name in the traffic table").isTrue();

            // Drill into curl, open a connection: its detail has the name.
            c.navigate("about:blank");
            c.navigate(base + "/#since=1h&f=exe:%2Fusr%2Fbin%2Fcurl&panel=exe:%2Fusr%2Fbin%2Fcurl");
            assertThat(c.until("document.body.dataset.loading === '0' && document.querySelector('#t-conns tbody tr.click')", WAIT)).isTrue();
            c.eval("document.querySelector('#t-conns tbody tr.click').click()");
            assertThat(c.until("document.querySelector('#detail span[data-ptr]') && document.querySelector('#detail span[data-ptr]').textContent === 'localhost'", WAIT))
                    .as("reverse name in the connection detail").isTrue();
            Files.createDirectories(WebBrowserTest.SHOTS);
            c.screenshot(WebBrowserTest.SHOTS.resolve("09-connection-detail-reverse-dns.png"));
            assertThat(c.pageErrors()).isEmpty();
        }
    }
}

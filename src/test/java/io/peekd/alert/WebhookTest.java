package io.peekd.alert;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.peekd.store.AlertRecord;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Webhooks against a real HTTP server on loopback that is down, then slow, then up. */
class WebhookTest {
    @TempDir
    Path dir;

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void deliveredAfterTheServerWasDownThenSlow() throws Exception {
        int port = freePort();
        List<String> attempts = new CopyOnWriteArrayList<>();
        CountDownLatch firstFailure = new CountDownLatch(1);
        String hostile = "evil.example\"}, \"rule\": \"forged";
        try (AlertFixture f = AlertFixture.start(dir, """
                [[alerts]]
                name = "hook"
                exe = "/usr/bin/curl"
                webhook = "http://127.0.0.1:%d/peekd"
                webhook_headers = { Authorization = "Bearer t0ken" }
                timeout_seconds = 1
                retries = 6
                """.formatted(port), false, false, AlertEngine.NO_FLAGS, (url, n, result) -> {
                    attempts.add(result);
                    firstFailure.countDown();
                })) {
            f.batch(AlertRows.row("/usr/bin/curl", "192.0.2.1", 443, hostile));
            assertThat(firstFailure.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(attempts.getFirst()).startsWith("network error");

            List<String> bodies = new CopyOnWriteArrayList<>();
            List<String> auth = new CopyOnWriteArrayList<>();
            AtomicInteger requests = new AtomicInteger();
            HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
            server.setExecutor(Executors.newCachedThreadPool());
            server.createContext("/peekd", ex -> {
                byte[] body = ex.getRequestBody().readAllBytes();
                if (requests.incrementAndGet() == 1) {
                    // Slow: answer long after the client's 1 s timeout.
                    try {
                        Thread.sleep(3_000);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                } else {
                    bodies.add(new String(body, java.nio.charset.StandardCharsets.UTF_8));
                    auth.add(ex.getRequestHeaders().getFirst("Authorization"));
                }
                ex.sendResponseHeaders(204, -1);
                ex.close();
            });
            server.start();
            try {
                List<AlertRecord> log = f.awaitFinished(1);
                assertThat(log).singleElement().satisfies(a -> {
                    assertThat(a.result()).as(a.detail()).isEqualTo("ok");
                    assertThat(a.detail()).contains("HTTP 204 after");
                });
            } finally {
                server.stop(0);
            }
            assertThat(attempts).anySatisfy(a -> assertThat(a).startsWith("network error"))
                    .anySatisfy(a -> assertThat(a).isEqualTo("no answer within 1 s"));
            assertThat(attempts.getLast()).isEqualTo("HTTP 204");
            assertThat(attempts.indexOf("no answer within 1 s")).isGreaterThan(0);
            assertThat(bodies).hasSize(1);
            assertThat(auth).containsExactly("Bearer t0ken");
            JsonNode json = new ObjectMapper().readTree(bodies.getFirst());
            assertThat(json.path("rule").asText()).isEqualTo("hook");
            assertThat(json.path("event").asText()).isEqualTo("flow");
            assertThat(json.path("flow").path("domain").asText()).isEqualTo(hostile);
            assertThat(json.path("values").path("domain").asText()).isEqualTo(hostile);
            assertThat(json.path("flow").path("exe").asText()).isEqualTo("/usr/bin/curl");
        }
    }

    @Test
    void aServerThatNeverComesUpFailsAfterTheRetries() throws Exception {
        int port = freePort();
        try (AlertFixture f = AlertFixture.start(dir, """
                [[alerts]]
                name = "nobody-home"
                rport = 443
                webhook = "http://127.0.0.1:%d/x"
                timeout_seconds = 1
                retries = 2
                """.formatted(port))) {
            f.batch(AlertRows.row("/usr/bin/curl", "192.0.2.1", 443, null));
            List<AlertRecord> log = f.awaitFinished(1);
            assertThat(log).singleElement().satisfies(a -> {
                assertThat(a.result()).isEqualTo("failed");
                assertThat(a.detail()).contains("network error").contains("attempt 3 of 3");
            });
            assertThat(f.errors).anySatisfy(e -> assertThat(e).startsWith("alert \"nobody-home\""));
        }
    }

    @Test
    void aClientErrorIsNotRetried() throws Exception {
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        AtomicInteger hits = new AtomicInteger();
        server.createContext("/", ex -> {
            hits.incrementAndGet();
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(403, -1);
            ex.close();
        });
        server.start();
        try (AlertFixture f = AlertFixture.start(dir, """
                [[alerts]]
                name = "forbidden"
                rport = 443
                webhook = "http://127.0.0.1:%d/x"
                retries = 5
                """.formatted(server.getAddress().getPort()))) {
            f.batch(AlertRows.row("/usr/bin/curl", "192.0.2.1", 443, null));
            assertThat(f.awaitFinished(1)).singleElement().satisfies(a -> {
                assertThat(a.result()).isEqualTo("failed");
                assertThat(a.detail()).contains("HTTP 403").contains("attempt 1 of 6");
            });
            assertThat(hits.get()).isEqualTo(1);
        } finally {
            server.stop(0);
        }
    }
}

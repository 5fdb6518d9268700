package io.peekd.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * {@code GET /metrics} on 127.0.0.1 only: the endpoint has no login, and a
 * scraper on another host should go through a proxy the admin chose. One
 * thread; a scrape renders the text on demand.
 */
public final class PrometheusServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd.metrics");
    private final HttpServer server;

    private PrometheusServer(HttpServer server) {
        this.server = server;
    }

    /** Binds 127.0.0.1:port (0 picks a free port, for tests); throws if the port is taken. */
    public static PrometheusServer start(int port, Supplier<String> text) throws IOException {
        // As the dashboard does (see WebServer.noDelay): whichever server starts first fixes it for both.
        if (System.getProperty("sun.net.httpserver.nodelay") == null) System.setProperty("sun.net.httpserver.nodelay", "true");
        HttpServer s = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
        s.createContext("/metrics", ex -> handle(ex, text));
        s.createContext("/", ex -> reply(ex, 404, "text/plain; charset=utf-8", "peekd serves /metrics only\n"));
        s.setExecutor(Executors.newSingleThreadExecutor(r -> Thread.ofPlatform().daemon().name("peekd-prometheus").unstarted(r)));
        s.start();
        return new PrometheusServer(s);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void handle(HttpExchange ex, Supplier<String> text) throws IOException {
        if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
            reply(ex, 405, "text/plain; charset=utf-8", "GET only\n");
            return;
        }
        String body;
        try {
            body = text.get();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot render metrics: " + e);
            reply(ex, 500, "text/plain; charset=utf-8", "cannot render metrics: " + e.getMessage() + "\n");
            return;
        }
        reply(ex, 200, PromText.CONTENT_TYPE, body);
    }

    private static void reply(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] b = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head ? -1 : b.length);
        if (!head) {
            try (OutputStream o = ex.getResponseBody()) {
                o.write(b);
            }
        }
        ex.close();
    }

    @Override
    public void close() {
        server.stop(0);
        ((java.util.concurrent.ExecutorService) server.getExecutor()).shutdownNow();
    }
}

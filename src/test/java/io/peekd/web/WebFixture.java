package io.peekd.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;

/** A dashboard on a loopback port over a {@link TestDb}, and a client for it. */
final class WebFixture implements AutoCloseable {
    static final ObjectMapper JSON = new ObjectMapper();
    final TestDb db;
    final WebServer server;
    final IgnoreFile ignore;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    final String base;

    private WebFixture(TestDb db, WebServer server, IgnoreFile ignore) {
        this.db = db;
        this.server = server;
        this.ignore = ignore;
        this.base = "http://127.0.0.1:" + server.address().getPort();
    }

    static WebFixture start(Path dir) throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        TestDb db = TestDb.create(data);
        IgnoreFile ignore = new IgnoreFile(dir.resolve("ignore_extra.toml"));
        WebOptions o = new WebOptions(InetAddress.ofLiteral("127.0.0.1"), 0, null, List.of("peekd.test"), 30,
                Duration.ofHours(24), 200, db.file, ignore, Optional.empty(), ZoneId.systemDefault());
        WebServer s = WebServer.start(o);
        s.pollDatabase();
        return new WebFixture(db, s, ignore);
    }

    HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    JsonNode json(String path) throws Exception {
        HttpResponse<String> r = get(path);
        if (r.statusCode() != 200) throw new AssertionError(path + " -> " + r.statusCode() + ": " + r.body());
        return JSON.readTree(r.body());
    }

    String csrf() throws Exception {
        return json("/api/meta").get("csrf").asText();
    }

    HttpResponse<String> post(String path, String body, String... headers) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (headers.length > 0) b.headers(headers);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /**
     * A raw HTTP/1.1 request, for headers the JDK client will not send (Host, a foreign Origin
     * on OPTIONS...). Returns the whole response text.
     */
    String raw(String request) throws IOException {
        try (Socket s = new Socket(InetAddress.ofLiteral("127.0.0.1"), server.address().getPort())) {
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(request.getBytes(StandardCharsets.UTF_8));
            out.flush();
            InputStream in = s.getInputStream();
            return new String(in.readNBytes(1 << 20), StandardCharsets.UTF_8);
        }
    }

    @Override
    public void close() {
        server.close();
    }
}

package io.peekd.virustotal;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A loopback HTTP server answering like the VirusTotal v3 API: file reports,
 * 404 for unknown hashes, uploads that become analyses, 429 when over quota
 * and 401 for a wrong key. It records every request it gets.
 */
final class FakeVirusTotal implements AutoCloseable {
    static final String KEY = "good-key";

    record Request(String method, String path, String apiKey) {
    }

    final HttpServer server;
    final List<Request> requests = new CopyOnWriteArrayList<>();
    /** sha256 → number of engines calling it malicious. */
    final Map<String, Integer> known = new ConcurrentHashMap<>();
    final List<byte[]> uploads = new CopyOnWriteArrayList<>();
    final AtomicInteger quotaErrors = new AtomicInteger();
    private final Map<String, Integer> analysisPolls = new ConcurrentHashMap<>();
    private final Map<String, String> analysisSha = new ConcurrentHashMap<>();
    private final AtomicInteger ids = new AtomicInteger();

    FakeVirusTotal() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 16);
        server.createContext("/api/v3/", this::handle);
        server.start();
    }

    String baseUrl() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private void handle(HttpExchange x) throws IOException {
        try (x) {
            String path = x.getRequestURI().getPath();
            String key = x.getRequestHeaders().getFirst("x-apikey");
            requests.add(new Request(x.getRequestMethod(), path, key));
            byte[] body = x.getRequestBody().readAllBytes();
            if (!KEY.equals(key)) {
                reply(x, 401, "{\"error\":{\"code\":\"WrongCredentialsError\",\"message\":\"Wrong API key\"}}");
                return;
            }
            if (quotaErrors.get() > 0 && quotaErrors.getAndDecrement() > 0) {
                reply(x, 429, "{\"error\":{\"code\":\"QuotaExceededError\",\"message\":\"Quota exceeded\"}}");
                return;
            }
            if (x.getRequestMethod().equals("GET") && path.startsWith("/api/v3/files/")) {
                String sha = path.substring("/api/v3/files/".length());
                Integer bad = known.get(sha);
                if (bad == null) {
                    reply(x, 404, "{\"error\":{\"code\":\"NotFoundError\",\"message\":\"File \\\"" + sha + "\\\" not found\"}}");
                } else {
                    reply(x, 200, "{\"data\":{\"id\":\"" + sha + "\",\"type\":\"file\",\"attributes\":{\"last_analysis_stats\":"
                            + stats(bad) + ",\"meaningful_name\":\"x\"}}}");
                }
            } else if (x.getRequestMethod().equals("POST") && path.equals("/api/v3/files")) {
                String type = x.getRequestHeaders().getFirst("Content-Type");
                byte[] file = multipartFile(body, type.substring(type.indexOf("boundary=") + 9));
                uploads.add(file);
                String id = "an-" + ids.incrementAndGet();
                analysisPolls.put(id, 0);
                analysisSha.put(id, sha256(file));
                reply(x, 200, "{\"data\":{\"type\":\"analysis\",\"id\":\"" + id + "\"}}");
            } else if (x.getRequestMethod().equals("GET") && path.startsWith("/api/v3/analyses/")) {
                String id = path.substring("/api/v3/analyses/".length());
                Integer polls = analysisPolls.computeIfPresent(id, (k, n) -> n + 1);
                if (polls == null) {
                    reply(x, 404, "{\"error\":{\"code\":\"NotFoundError\",\"message\":\"no such analysis\"}}");
                } else if (polls < 2) {
                    reply(x, 200, "{\"data\":{\"id\":\"" + id + "\",\"type\":\"analysis\",\"attributes\":{\"status\":\"queued\",\"stats\":"
                            + "{\"harmless\":0,\"malicious\":0,\"suspicious\":0,\"undetected\":0}}}}");
                } else {
                    known.putIfAbsent(analysisSha.get(id), 0);
                    reply(x, 200, "{\"data\":{\"id\":\"" + id + "\",\"type\":\"analysis\",\"attributes\":{\"status\":\"completed\",\"stats\":"
                            + stats(known.get(analysisSha.get(id))) + "}}}");
                }
            } else {
                reply(x, 400, "{\"error\":{\"code\":\"BadRequestError\",\"message\":\"unexpected\"}}");
            }
        }
    }

    private static String stats(int malicious) {
        return "{\"harmless\":0,\"type-unsupported\":4,\"suspicious\":0,\"confirmed-timeout\":0,\"timeout\":0,"
                + "\"failure\":0,\"malicious\":" + malicious + ",\"undetected\":" + (70 - malicious) + "}";
    }

    /** The bytes of the one part of a multipart/form-data body. */
    static byte[] multipartFile(byte[] body, String boundary) {
        String s = new String(body, StandardCharsets.ISO_8859_1);
        int start = s.indexOf("\r\n\r\n") + 4;
        int end = s.lastIndexOf("\r\n--" + boundary + "--");
        return s.substring(start, end).getBytes(StandardCharsets.ISO_8859_1);
    }

    static String sha256(byte[] b) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void reply(HttpExchange x, int code, String json) throws IOException {
        byte[] b = json.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "application/json");
        x.sendResponseHeaders(code, b.length);
        x.getResponseBody().write(b);
    }

    long count(String method, String pathPrefix) {
        return requests.stream().filter(r -> r.method().equals(method) && r.path().startsWith(pathPrefix)).count();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

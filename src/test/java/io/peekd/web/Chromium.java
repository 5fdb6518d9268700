package io.peekd.web;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;

/**
 * Debian's headless Chromium, driven over the Chrome DevTools Protocol with the JDK's
 * WebSocket client: one page (a target attached in flat mode), commands by id, events kept
 * for the test to inspect (console errors, exceptions, dialogs an XSS would open).
 */
final class Chromium implements AutoCloseable {
    static final Path BINARY = Path.of("/usr/bin/chromium");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration COMMAND_TIMEOUT = Duration.ofSeconds(60);

    private final Process process;
    private final Path profile;
    private final WebSocket ws;
    private final String session;
    private final AtomicInteger ids = new AtomicInteger();
    private final Map<Integer, CompletableFuture<JsonNode>> pending = new ConcurrentHashMap<>();
    final List<JsonNode> events = new CopyOnWriteArrayList<>();
    final List<String> output = new CopyOnWriteArrayList<>();

    private Chromium(Process process, Path profile, WebSocket ws, Listener l) throws Exception {
        this.process = process;
        this.profile = profile;
        this.ws = ws;
        l.owner = this;
        String target = call(null, "Target.createTarget", Map.of("url", "about:blank")).get("targetId").asText();
        this.session = call(null, "Target.attachToTarget", Map.of("targetId", target, "flatten", true))
                .get("sessionId").asText();
        send("Page.enable", Map.of());
        send("Runtime.enable", Map.of());
        // Accept any dialog, so a page that opens one cannot hang the test; the event is still recorded.
    }

    /** Starts Chromium with the flags the project allows, in a new profile directory. */
    static Chromium launch(Path workDir) throws Exception {
        assumeTrue(Files.isExecutable(BINARY), "Debian chromium is not installed (scripts/test-packages.txt)");
        Path profile = Files.createTempDirectory(Files.createDirectories(workDir), "chromium-");
        ProcessBuilder pb = new ProcessBuilder(BINARY.toString(), "--headless", "--no-sandbox", "--disable-gpu",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars", "--user-data-dir=" + profile,
                "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "about:blank");
        pb.redirectErrorStream(true);
        Process p = pb.start();
        CompletableFuture<String> wsUrl = new CompletableFuture<>();
        List<String> out = new CopyOnWriteArrayList<>();
        Thread reader = Thread.ofPlatform().daemon().name("chromium-out").start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                    if (out.size() < 2000) out.add(line);
                    int i = line.indexOf("DevTools listening on ");
                    if (i >= 0) wsUrl.complete(line.substring(i + "DevTools listening on ".length()).strip());
                }
            } catch (IOException ignored) {
                // the browser is gone
            }
            wsUrl.completeExceptionally(new IllegalStateException("chromium exited before DevTools started: " + out));
        });
        String url;
        try {
            url = wsUrl.get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            kill(p);
            throw new IllegalStateException("chromium did not start: " + out, e);
        }
        Listener l = new Listener();
        WebSocket ws = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10))
                .buildAsync(URI.create(url), l).get(30, TimeUnit.SECONDS);
        Chromium c = new Chromium(p, profile, ws, l);
        c.output.addAll(out);
        reader.setName("chromium-out-" + p.pid());
        return c;
    }

    private static final class Listener implements WebSocket.Listener {
        volatile Chromium owner;
        private final StringBuilder buf = new StringBuilder();
        private final List<JsonNode> early = new ArrayList<>();

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            buf.append(data);
            if (last) {
                String msg = buf.toString();
                buf.setLength(0);
                try {
                    JsonNode n = JSON.readTree(msg);
                    Chromium o = owner;
                    if (o == null) early.add(n);
                    else {
                        for (JsonNode e : early) o.dispatch(e);
                        early.clear();
                        o.dispatch(n);
                    }
                } catch (IOException ignored) {
                    // not JSON: not from DevTools
                }
            }
            ws.request(1);
            return null;
        }
    }

    private void dispatch(JsonNode n) {
        if (n.has("id")) {
            CompletableFuture<JsonNode> f = pending.remove(n.get("id").asInt());
            if (f != null) {
                if (n.has("error")) f.completeExceptionally(new IllegalStateException("CDP error: " + n.get("error")));
                else f.complete(n.get("result"));
            }
        } else {
            events.add(n);
            if ("Page.javascriptDialogOpening".equals(n.path("method").asText())) {
                sendAsync("Page.handleJavaScriptDialog", Map.of("accept", true));
            }
        }
    }

    private CompletableFuture<JsonNode> sendAsync(String method, Map<String, ?> params) {
        return callAsync(session, method, params);
    }

    private CompletableFuture<JsonNode> callAsync(String sessionId, String method, Map<String, ?> params) {
        int id = ids.incrementAndGet();
        ObjectNode msg = JSON.createObjectNode();
        msg.put("id", id);
        msg.put("method", method);
        msg.set("params", JSON.valueToTree(params));
        if (sessionId != null) msg.put("sessionId", sessionId);
        CompletableFuture<JsonNode> f = new CompletableFuture<>();
        pending.put(id, f);
        synchronized (ws) {
            ws.sendText(msg.toString(), true).join();
        }
        return f;
    }

    private JsonNode call(String sessionId, String method, Map<String, ?> params) throws Exception {
        return callAsync(sessionId, method, params).get(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }

    JsonNode send(String method, Map<String, ?> params) throws Exception {
        return call(session, method, params);
    }

    /** Sets the viewport (CSS pixels). */
    void size(int width, int height) throws Exception {
        send("Emulation.setDeviceMetricsOverride", Map.of("width", width, "height", height, "deviceScaleFactor", 1,
                "mobile", false));
    }

    void navigate(String url) throws Exception {
        send("Page.navigate", Map.of("url", url));
    }

    /** Evaluates an expression in the page (awaiting a promise) and returns its value as JSON. */
    JsonNode eval(String expression) throws Exception {
        JsonNode r = send("Runtime.evaluate", Map.of("expression", expression, "awaitPromise", true,
                "returnByValue", true));
        if (r.has("exceptionDetails")) {
            throw new IllegalStateException("page script failed: " + r.get("exceptionDetails").toPrettyString());
        }
        return r.path("result").path("value");
    }

    String text(String expression) throws Exception {
        return eval(expression).asText();
    }

    /** Waits (bounded) until a page expression is true; returns whether it became true. */
    boolean until(String expression, Duration max) throws Exception {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (eval("!!(" + expression + ")").asBoolean()) return true;
            } catch (IllegalStateException e) {
                // the page is between documents; try again
            }
            Thread.sleep(100);
        }
        return false;
    }

    static boolean waitFor(BooleanSupplier cond, Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            if (cond.getAsBoolean()) return true;
            Thread.sleep(100);
        }
        return cond.getAsBoolean();
    }

    /** Saves a PNG of the viewport. */
    Path screenshot(Path file) throws Exception {
        JsonNode r = send("Page.captureScreenshot", Map.of("format", "png"));
        Files.createDirectories(file.getParent());
        Files.write(file, Base64.getDecoder().decode(r.get("data").asText()));
        return file;
    }

    /** Exceptions thrown in the page and console errors, as text. */
    List<String> pageErrors() {
        List<String> out = new ArrayList<>();
        for (JsonNode e : events) {
            String m = e.path("method").asText();
            if (m.equals("Runtime.exceptionThrown")) out.add(e.path("params").path("exceptionDetails").toString());
            if (m.equals("Runtime.consoleAPICalled") && e.path("params").path("type").asText().equals("error"))
                out.add(e.path("params").path("args").toString());
        }
        return out;
    }

    List<JsonNode> events(String method) {
        return events.stream().filter(e -> method.equals(e.path("method").asText())).toList();
    }

    private static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroy);
        p.destroy();
        try {
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        try {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "").get(5, TimeUnit.SECONDS);
        } catch (Exception ignored) {
            // the browser is stopped below either way
        }
        kill(process);
        try (var s = Files.walk(profile)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException ignored) {
            // a leftover profile in target/ is harmless
        }
    }
}

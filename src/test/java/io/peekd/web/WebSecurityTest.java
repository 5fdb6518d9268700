package io.peekd.web;

import io.peekd.testkit.TestConfig;
import io.peekd.testkit.Tgen;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import io.peekd.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A dashboard open to the network must refuse to start without its token, and no other site
 * may change anything through the visitor's browser.
 */
class WebSecurityTest {
    @TempDir
    Path dir;

    private Path config(String web) throws Exception {
        Path c = dir.resolve("config.toml");
        Files.writeString(c, TestConfig.paths(dir) + """

                [web]
                %s
                """.formatted(web));
        return c;
    }

    /** Runs a peekd command with a time limit: a dashboard that wrongly starts would block forever. */
    private static String[] run(String... args) throws Exception {
        StringWriter out = new StringWriter(), err = new StringWriter();
        CompletableFuture<Integer> rc = CompletableFuture.supplyAsync(
                () -> Main.run(new PrintWriter(out), new PrintWriter(err), args));
        try {
            return new String[] {String.valueOf(rc.get(30, TimeUnit.SECONDS)), out.toString(), err.toString()};
        } catch (java.util.concurrent.TimeoutException e) {
            if (WebCommandAccess.stop() != null) WebCommandAccess.stop().countDown();
            throw new AssertionError("peekd " + String.join(" ", args) + " did not return; it started serving: " + out, e);
        }
    }

    private static boolean listening(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }

    private static int freePort() throws Exception {
        try (var s = new java.net.ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void aNonLoopbackBindWithoutATokenRefusesToStart() throws Exception {
        int port = freePort();
        Path cfg = config("");
        String[] r = run("web", "--config", cfg.toString(), "--bind", "0.0.0.0", "--port", String.valueOf(port));
        assertThat(r[0]).isEqualTo("1");
        assertThat(r[2]).contains("refusing to serve the dashboard on 0.0.0.0 (not loopback) without an access token")
                .contains("peekd web --new-token");
        assertThat(listening(port)).isFalse();

        // The daemon checks the same before it loads anything into the kernel (no BPF needed to see it).
        Path daemonCfg = config("bind = \"::\"\nport = " + port);
        String[] d = run("daemon", "--config", daemonCfg.toString(), "--web-port", String.valueOf(port));
        assertThat(d[0]).isEqualTo("1");
        assertThat(d[2]).contains("refusing to serve the dashboard on").contains("without an access token");
        assertThat(listening(port)).isFalse();

        // A token others can read is no token.
        Path token = Tokens.file(dir.resolve("data"));
        String[] made = run("web", "--config", cfg.toString(), "--new-token", "--port", String.valueOf(port));
        assertThat(made[0]).isEqualTo("0");
        assertThat(Files.getPosixFilePermissions(token)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
        String t = Files.readString(token).strip();
        assertThat(made[1]).contains("/?token=" + t);
        Files.setPosixFilePermissions(token, PosixFilePermissions.fromString("rw-r--r--"));
        String[] loose = run("web", "--config", cfg.toString(), "--bind", "0.0.0.0", "--port", String.valueOf(port));
        assertThat(loose[0]).isEqualTo("1");
        assertThat(loose[2]).contains("can be read or written by others").contains("chmod 600");
        assertThat(listening(port)).isFalse();
    }

    private WebServer exposed(String token, IgnoreFile ignore) throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        TestDb db = TestDb.create(data);
        // Bound to every address, as an exposed dashboard is; the test only ever connects over loopback.
        return WebServer.start(new WebOptions(InetAddress.ofLiteral("0.0.0.0"), 0, token, List.of("peekd.test"), 30,
                Duration.ofHours(24), 200, db.file, ignore, Optional.empty(), ZoneId.systemDefault()));
    }

    private static String raw(int port, String request) throws Exception {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            return new String(s.getInputStream().readNBytes(1 << 20), StandardCharsets.UTF_8);
        }
    }

    private static String get(String path, String host, String... headers) {
        StringBuilder sb = new StringBuilder("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n");
        for (String h : headers) sb.append(h).append("\r\n");
        return sb.append("\r\n").toString();
    }

    @Test
    void theTokenGuardsEveryRequestAndTheHostHeaderIsChecked() throws Exception {
        String token = Tokens.random();
        try (WebServer s = exposed(token, new IgnoreFile(dir.resolve("ignore_extra.toml")))) {
            int port = s.address().getPort();
            String local = "127.0.0.1:" + port;
            assertThat(raw(port, get("/api/summary", local))).startsWith("HTTP/1.1 401").contains("access token");
            assertThat(raw(port, get("/", local))).startsWith("HTTP/1.1 401");
            assertThat(raw(port, get("/api/summary", local, "Authorization: Bearer " + token))).startsWith("HTTP/1.1 200");
            assertThat(raw(port, get("/api/summary", local, "Authorization: Bearer " + token.replace(token.charAt(0), 'x') + "0")))
                    .startsWith("HTTP/1.1 401");
            // The URL token becomes an HttpOnly, SameSite=Strict cookie and leaves the address bar.
            String first = raw(port, get("/?token=" + token, local));
            assertThat(first).startsWith("HTTP/1.1 303").containsIgnoringCase("Location: /\r\n")
                    .containsIgnoringCase("Set-Cookie: peekd_token_" + port + "=" + token + "; Path=/; HttpOnly; SameSite=Strict");
            assertThat(raw(port, get("/api/meta", local, "Cookie: a=b; peekd_token_" + port + "=" + token))).startsWith("HTTP/1.1 200");
            assertThat(raw(port, get("/?token=nope", local))).startsWith("HTTP/1.1 401");

            // DNS rebinding: a foreign name pointing at us is refused, with or without the token.
            String bearer = "Authorization: Bearer " + token;
            assertThat(raw(port, get("/api/meta", "attacker.example:" + port, bearer))).startsWith("HTTP/1.1 421");
            assertThat(raw(port, get("/api/meta", "localhost.attacker.example", bearer))).startsWith("HTTP/1.1 421");
            assertThat(raw(port, get("/api/meta", "peekd.test:" + port, bearer))).startsWith("HTTP/1.1 200");
            assertThat(raw(port, get("/api/meta", "localhost:" + port, bearer))).startsWith("HTTP/1.1 200");
            assertThat(raw(port, get("/api/meta", "[::1]:" + port, bearer))).startsWith("HTTP/1.1 200");
            // No CORS: a foreign origin is never allowed to read, preflights are not approved.
            String cors = raw(port, get("/api/meta", local, bearer, "Origin: http://attacker.example"));
            assertThat(cors).startsWith("HTTP/1.1 200").doesNotContainIgnoringCase("Access-Control-Allow");
            String preflight = raw(port, "OPTIONS /api/ignore HTTP/1.1\r\nHost: " + local + "\r\nConnection: close\r\n" + bearer
                    + "\r\nOrigin: http://attacker.example\r\nAccess-Control-Request-Method: POST\r\n"
                    + "Access-Control-Request-Headers: x-peekd-csrf, content-type\r\n\r\n");
            assertThat(preflight).startsWith("HTTP/1.1 405").doesNotContainIgnoringCase("Access-Control-Allow");
        }
    }

    @Test
    void aCrossSitePostIsRejected() throws Exception {
        IgnoreFile ignore = new IgnoreFile(dir.resolve("ignore_extra.toml"));
        try (WebServer s = exposed(Tokens.random(), ignore)) {
            int port = s.address().getPort();
            String token = tokenOf(s);
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + port;
            String csrf = new com.fasterxml.jackson.databind.ObjectMapper().readTree(http.send(HttpRequest.newBuilder(
                    URI.create(base + "/api/meta")).header("Authorization", "Bearer " + token).build(),
                    HttpResponse.BodyHandlers.ofString()).body()).get("csrf").asText();
            String body = "{\"op\":\"add\",\"kind\":\"ports\",\"value\":\"4444\"}";
            record Attempt(String what, int status, String[] headers) {
            }
            List<Attempt> attempts = List.of(
                    new Attempt("foreign Origin", 403, new String[] {"Origin", "http://attacker.example",
                            "Content-Type", "application/json", Guard.CSRF_HEADER, csrf}),
                    new Attempt("Sec-Fetch-Site cross-site", 403, new String[] {"Sec-Fetch-Site", "cross-site",
                            "Content-Type", "application/json", Guard.CSRF_HEADER, csrf}),
                    new Attempt("no CSRF header (a form post)", 403, new String[] {"Origin", base,
                            "Content-Type", "text/plain"}),
                    new Attempt("wrong CSRF header", 403, new String[] {"Content-Type", "application/json",
                            Guard.CSRF_HEADER, "0".repeat(64)}),
                    new Attempt("form content type", 415, new String[] {"Origin", base,
                            "Content-Type", "application/x-www-form-urlencoded", Guard.CSRF_HEADER, csrf}));
            for (Attempt a : attempts) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/api/ignore"))
                        .header("Authorization", "Bearer " + token).headers(a.headers())
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).as(a.what()).isEqualTo(a.status());
                assertThat(Files.exists(ignore.path())).as(a.what()).isFalse();
            }
            // The same request from the page itself goes through: the checks above are what stopped them.
            HttpResponse<String> ok = http.send(HttpRequest.newBuilder(URI.create(base + "/api/ignore"))
                    .header("Authorization", "Bearer " + token).header("Origin", base)
                    .header("Sec-Fetch-Site", "same-origin").header("Content-Type", "application/json")
                    .header(Guard.CSRF_HEADER, csrf).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ignore.read().ports()).containsExactly(4444);
        }
    }

    private static String tokenOf(WebServer s) throws Exception {
        var f = WebServer.class.getDeclaredField("opts");
        f.setAccessible(true);
        return ((WebOptions) f.get(s)).token();
    }

    /**
     * The real thing: a page on another origin, in Chromium, tries to add an ignore rule with a
     * form post, a no-cors fetch and a CORS fetch, and to read the CSRF token. None works.
     */
    @Test
    void aCrossSitePageInTheBrowserCannotChangeOrReadAnything() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        TestDb db = TestDb.create(data);
        IgnoreFile ignore = new IgnoreFile(dir.resolve("ignore_extra.toml"));
        try (WebServer dash = WebServer.start(new WebOptions(InetAddress.ofLiteral("127.0.0.1"), 0, null, List.of(), 30,
                Duration.ofHours(24), 200, db.file, ignore, Optional.empty(), ZoneId.systemDefault()));
             Chromium browser = Chromium.launch(Tgen.testDir())) {
            String target = "http://127.0.0.1:" + dash.address().getPort();
            String evil = """
                    <!doctype html><title>evil</title>
                    <iframe name="sink"></iframe>
                    <form id="f" method="POST" action="%1$s/api/ignore" enctype="text/plain" target="sink">
                      <input name='{"op":"add","kind":"ports","value":"1111","x":"' value='"}'>
                    </form>
                    <script>
                    const log = [];
                    (async () => {
                      document.getElementById('f').submit();
                      await fetch('%1$s/api/ignore', {method: 'POST', mode: 'no-cors', body: '{"op":"add","kind":"ports","value":"2222"}',
                        headers: {'Content-Type': 'text/plain'}}).then(() => log.push('no-cors sent'), e => log.push('no-cors ' + e));
                      await fetch('%1$s/api/ignore', {method: 'POST', body: '{"op":"add","kind":"ports","value":"3333"}',
                        headers: {'Content-Type': 'application/json', 'X-Peekd-Csrf': 'guess'}})
                        .then(r => log.push('cors ' + r.status), e => log.push('cors blocked'));
                      await fetch('%1$s/api/meta').then(r => r.text()).then(t => log.push('read ' + t), e => log.push('read blocked'));
                      await new Promise(r => setTimeout(r, 1500));
                      document.title = 'done ' + JSON.stringify(log);
                    })();
                    </script>
                    """.formatted(target);
            HttpServer attacker = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 8);
            attacker.createContext("/", ex -> {
                byte[] b = evil.getBytes(StandardCharsets.UTF_8);
                ex.getResponseHeaders().set("Content-Type", "text/html; charset=utf-8");
                ex.sendResponseHeaders(200, b.length);
                ex.getResponseBody().write(b);
                ex.close();
            });
            attacker.start();
            try {
                browser.navigate("http://127.0.0.1:" + attacker.getAddress().getPort() + "/");
                assertThat(browser.until("document.title.startsWith('done')", Duration.ofSeconds(30))).isTrue();
                String log = browser.text("document.title");
                assertThat(log).contains("cors blocked").contains("read blocked").doesNotContain("read {");
                assertThat(Files.exists(ignore.path())).as("ignore file after the attack: " + log).isFalse();
                // The dashboard's own page, in the same browser, can add a rule: the attack failed on the checks.
                browser.navigate(target + "/#view=ignore");
                assertThat(browser.until("document.body.dataset.loading === '0' && document.body.dataset.seq", Duration.ofSeconds(20))).isTrue();
                browser.eval("(() => { document.getElementById('ignkind').value = 'ports';"
                        + " document.getElementById('ignvalue').value = '5555'; document.getElementById('ignadd').click(); })()");
                assertThat(Chromium.waitFor(() -> {
                    try {
                        return ignore.read().ports().contains(5555);
                    } catch (IgnoreFile.Invalid e) {
                        return false;
                    }
                }, Duration.ofSeconds(20))).isTrue();
                assertThat(ignore.read().ports()).containsExactly(5555);
            } finally {
                attacker.stop(0);
            }
        }
    }
}

package io.peekd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.capture.Kernel;
import io.peekd.testkit.TestConfig;
import io.peekd.testkit.Tgen;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@code peekd daemon --web-port} as a real process with real capture: a new connection
 * reaches an open live feed without polling the database, and an ignore rule written to
 * ignore_extra.toml (as the dashboard writes it) is obeyed by the running daemon.
 */
class WebDaemonTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern URL = Pattern.compile("peekd: dashboard at (http://\\S+)");

    @Test
    void liveFeedAndIgnoreHotReloadInTheDaemon() throws Exception {
        Kernel.require();
        Path base = Tgen.testDir();
        Path dir = Files.createTempDirectory(base, "webd-");
        Path cfg = dir.resolve("config.toml");
        // An hour-long write window: anything the feed shows within the test came from the open window.
        Files.writeString(cfg, TestConfig.paths(dir) + """

                [database]
                write_limit_seconds = 3600

                [capture]
                drain_interval_ms = 200

                [log]
                ignore_ports = []
                ignore_domains = []
                ignore_ips = []
                """);
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "io.peekd.cli.Main",
                "daemon", "--config", cfg.toString(), "--web-port", "0"));
        Process daemon = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> out = new CopyOnWriteArrayList<>();
        Thread.ofPlatform().daemon().start(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(daemon.getInputStream(), StandardCharsets.UTF_8))) {
                for (String l; (l = r.readLine()) != null; ) out.add(l);
            } catch (java.io.IOException ignored) {
                // the daemon ended
            }
        });
        List<String> events = new CopyOnWriteArrayList<>();
        try {
            String url = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (url == null && daemon.isAlive() && System.nanoTime() < deadline) {
                for (String l : out) {
                    Matcher m = URL.matcher(l);
                    if (m.find()) url = m.group(1);
                }
                Thread.sleep(100);
            }
            assertThat(url).as("daemon printed its dashboard URL: " + out).isNotNull();
            assertThat(url).startsWith("http://127.0.0.1:");

            HttpClient http = HttpClient.newHttpClient();
            HttpResponse<InputStream> sse = http.send(HttpRequest.newBuilder(URI.create(url + "api/live")).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(sse.statusCode()).isEqualTo(200);
            assertThat(sse.headers().firstValue("Content-Type").orElseThrow()).startsWith("text/event-stream");
            Thread reader = Thread.ofPlatform().daemon().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(sse.body(), StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) if (l.startsWith("data: ") || l.startsWith("event: ")) events.add(l);
                } catch (java.io.IOException ignored) {
                    // closed at the end of the test
                }
            });

            // A rule for one port, written as the dashboard writes it; the daemon reloads it within a second.
            Path srvIgnored = Tgen.copyAs("webd-ign-srv"), cliIgnored = Tgen.copyAs("webd-ign-cli");
            Path srv = Tgen.copyAs("webd-srv"), cli = Tgen.copyAs("webd-cli");
            try (Tgen.Running ignoredServer = Tgen.start(srvIgnored, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "54321");
                 Tgen.Running server = Tgen.start(srv, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "65432")) {
                io.peekd.web.IgnoreFile ignore = io.peekd.web.IgnoreFile.nextTo(cfg);
                ignore.add(io.peekd.web.IgnoreFile.Kind.PORTS, String.valueOf(ignoredServer.port()));
                Thread.sleep(2500); // the watcher polls once a second
                Tgen.run(cliIgnored, "tcp-send", "--to", "127.0.0.1:" + ignoredServer.port(), "--bytes", "54321");
                Tgen.run(cli, "tcp-send", "--to", "127.0.0.1:" + server.port(), "--bytes", "65432");
                ignoredServer.await();
                server.await();
            }
            // The write window is an hour long, so every "live" event carries the whole open window
            // so far and the client's row only grows. The largest value it showed is the check: a
            // later event may leave the row out, since an event carries only the largest rows
            // (Live.MAX_ROWS) and on a busy machine the open window holds many.
            long until = System.nanoTime() + Duration.ofSeconds(15).toNanos();
            long sent = 0;
            boolean shownLive = false;
            while (System.nanoTime() < until) {
                String kind = "";
                for (String e : List.copyOf(events)) {
                    if (e.startsWith("event: ")) {
                        kind = e.substring(7);
                    } else if (kind.equals("live") && e.contains(cli.toString())) {
                        long inEvent = 0;
                        for (JsonNode r : JSON.readTree(e.substring(6)).get("rows")) {
                            if (r.get("exe").asText().equals(cli.toString())) inEvent += r.get("sent").asLong();
                        }
                        shownLive = true;
                        sent = Math.max(sent, inEvent);
                    }
                }
                if (sent >= 65432) break;
                Thread.sleep(100);
            }
            assertThat(shownLive).as("live feed carried the new connection: " + events.size() + " lines").isTrue();
            assertThat(sent).isEqualTo(65432);
            // Let a few more live ticks pass, then check the ignored pair never showed up.
            Thread.sleep(2000);
            assertThat(events.stream().filter(e -> e.contains(cliIgnored.toString()) || e.contains(srvIgnored.toString())))
                    .as("ignored port").isEmpty();
            reader.interrupt();
        } finally {
            daemon.destroy();
            if (!daemon.waitFor(30, TimeUnit.SECONDS)) daemon.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}

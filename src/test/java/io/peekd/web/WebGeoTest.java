package io.peekd.web;

import io.peekd.testkit.Tgen;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Country flags from a real MaxMind-format database, written for the test by MaxMind's own
 * Perl writer: the API names the countries and the page shows the flags.
 */
class WebGeoTest {
    @TempDir
    Path dir;

    private Path countryDb() throws Exception {
        Path script = dir.resolve("make-country-mmdb.pl");
        try (InputStream in = WebGeoTest.class.getResourceAsStream("make-country-mmdb.pl")) {
            Files.copy(in, script);
        }
        Path mmdb = dir.resolve("test-country.mmdb");
        Process p = new ProcessBuilder("perl", script.toString(), mmdb.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("perl did not finish");
        }
        assertThat(p.exitValue()).as("perl MaxMind::DB::Writer (libmaxmind-db-writer-perl): " + out).isZero();
        return mmdb;
    }

    @Test
    void countriesOfRemoteAddressesInTheApiAndFlagsOnThePage() throws Exception {
        Path mmdb = countryDb();
        TestDb db = TestDb.create(Files.createDirectories(dir.resolve("data")));
        try (WebServer s = WebServer.start(new WebOptions(InetAddress.ofLiteral("127.0.0.1"), 0, null, List.of(), 30,
                Duration.ofHours(24), 200, db.file, new IgnoreFile(dir.resolve("ignore_extra.toml")), Optional.of(mmdb),
                ZoneId.systemDefault()))) {
            String base = "http://127.0.0.1:" + s.address().getPort();
            var http = java.net.http.HttpClient.newHttpClient();
            JsonNode meta = WebFixture.JSON.readTree(http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(base + "/api/meta")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body());
            assertThat(meta.get("geoip").asBoolean()).isTrue();
            JsonNode g = WebFixture.JSON.readTree(http.send(java.net.http.HttpRequest.newBuilder(
                    java.net.URI.create(base + "/api/groups?since=30d&by=raddr")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body());
            assertThat(g.get("countries").toString())
                    .isEqualTo("{\"2606:4700::6810:84e5\":\"DE\",\"93.184.216.34\":\"US\"}");
            String csv = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/api/export?since=30d")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            List<List<String>> rows = WebApiTest.parseCsv(csv);
            int raddr = rows.getFirst().indexOf("raddr"), country = rows.getFirst().indexOf("country");
            for (List<String> r : rows.subList(1, rows.size())) {
                String want = r.get(raddr).equals("93.184.216.34") ? "US" : r.get(raddr).startsWith("2606:4700:") ? "DE" : "";
                assertThat(r.get(country)).as(r.get(raddr)).isEqualTo(want);
            }
            try (Chromium b = Chromium.launch(Tgen.testDir())) {
                b.size(1280, 800);
                b.navigate(base + "/#since=30d&view=destinations");
                assertThat(b.until("document.body.dataset.loading === '0' && document.body.dataset.seq", Duration.ofSeconds(20))).isTrue();
                String flags = b.text("[...document.querySelectorAll('#t-dest .flag')].map(f => f.title + f.textContent).join(' ')");
                assertThat(flags).contains("US\uD83C\uDDFA\uD83C\uDDF8").contains("DE\uD83C\uDDE9\uD83C\uDDEA");
                b.screenshot(WebBrowserTest.SHOTS.resolve("10-destinations-geoip.png"));
            }
        }
    }
}

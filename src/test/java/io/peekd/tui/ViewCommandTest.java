package io.peekd.tui;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.testkit.TestConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.time.Instant;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.peekd.cli.Main;

/** {@code peekd view} from the command line, where no terminal is involved. */
class ViewCommandTest {

    @TempDir
    Path dir;

    private Path config() throws Exception {
        Path c = dir.resolve("config.toml");
        Files.writeString(c, TestConfig.paths(dir));
        return c;
    }

    private static String[] run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        return new String[] {Integer.toString(rc), out.toString(), err.toString()};
    }

    @Test
    void helpExplainsTheKeysAndOptions() {
        String[] r = run("view", "--help");
        assertThat(r[0]).isEqualTo("0");
        assertThat(r[1]).contains("full-screen", "space/enter/f filter", "t/T time range", "h/H step through",
                "--tab", "--range", "--units", "--refresh", "--print", "--config");
        assertThat(run("--help")[1]).contains("view");
    }

    @Test
    void badOptionsSayWhatIsAllowed() throws Exception {
        String[] r = run("view", "--config", config().toString(), "--tab", "exes");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("unknown tab \"exes\"", "exe, name, cmdline");
        r = run("view", "--config", config().toString(), "--range", "2h");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("all, 1m, 5m, 15m, 1h");
        r = run("view", "--config", config().toString(), "--refresh", "-1");
        assertThat(r[0]).isEqualTo("2");
        assertThat(r[2]).contains("--refresh");
    }

    @Test
    void noDatabaseYetIsAClearError() throws Exception {
        String[] r = run("view", "--config", config().toString());
        assertThat(r[0]).isEqualTo("1");
        assertThat(r[2]).contains("no data yet", "peekd.db", "is the daemon running");
    }

    @Test
    void withoutATerminalItPrintsTheTab() throws Exception {
        Path cfg = config();
        ViewDb.write(dir.resolve("data/peekd.db"), Instant.now());
        // Under the test runner stdout is a pipe: the view prints instead of drawing.
        String[] r = run("view", "--config", cfg.toString(), "--tab", "user", "--units", "B");
        assertThat(r[0]).isEqualTo("0");
        assertThat(r[1]).containsPattern("USER\\s+SENT\\s+RECEIVED\\s+TOTAL")
                .containsPattern("root \\(0\\)\\s+5400 B\\s+1006200 B\\s+1011600 B")
                .containsPattern("alice \\(1000\\)\\s+1500 B\\s+27000 B\\s+28500 B")
                .containsPattern("total \\(all time, 3 rows\\)\\s+6942 B\\s+1033243 B\\s+1040185 B");
        r = run("view", "--config", cfg.toString(), "--print", "--tab", "exe", "--range", "1h", "--units", "B");
        assertThat(r[1]).contains("/usr/bin/wget", "/usr/bin/curl", "/tmp/evil\\x1b[2J\\x1b[H")
                .doesNotContain("/usr/sbin/sshd").doesNotContain("\u001b");
        r = run("view", "--config", cfg.toString(), "--print", "--tab", "sha256");
        assertThat(r[1]).containsPattern("SHA256\\s+VERDICT\\s+SENT");
    }

    @Test
    void thePrintedTableAddsTheDaemonsRowsNotStoredYet() throws Exception {
        Path cfg = config();
        Instant now = Instant.now();
        ViewDb.write(dir.resolve("data/peekd.db"), now);
        try (LiveDaemon d = LiveDaemon.start(dir.resolve("data/peekd.db"), dir.resolve("run/peekd.sock"))) {
            d.open.set(java.util.List.of(ViewDb.row(now, ViewDb.curl(), "10.0.0.1", 40100, "93.184.216.34", 443,
                    "example.org", 7, 9)));
            String[] r = run("view", "--config", cfg.toString(), "--print", "--tab", "user", "--units", "B");
            assertThat(r[0]).as(r[2]).isEqualTo("0");
            assertThat(r[1]).containsPattern("alice \\(1000\\)\\s+1507 B\\s+27009 B\\s+28516 B")
                    .containsPattern("total \\(all time, 3 rows\\)\\s+6949 B\\s+1033252 B\\s+1040201 B")
                    .contains("(+1 live row from the daemon, not in the database yet)");
        }
        // The daemon gone (its socket removed): the database alone, without a word about it.
        String[] r = run("view", "--config", cfg.toString(), "--print", "--tab", "user", "--units", "B");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        assertThat(r[1]).containsPattern("alice \\(1000\\)\\s+1500 B\\s+27000 B\\s+28500 B")
                .doesNotContain("live").doesNotContain("daemon");
        assertThat(r[2]).isEmpty();
    }

    /*
     * The verdict column comes from the daemon's state.json (VirusTotal, then the package
     * check), the country column from the configured GeoIP database (the DB-IP file that
     * scripts/setup installs).
     */
    @Test
    void hashesShowTheirVerdictAndAddressesTheirCountry() throws Exception {
        Path cfg = config();
        Path mmdb = Path.of("/var/lib/peekd/geoip/country.mmdb");
        Files.writeString(cfg, Files.readString(cfg) + "[geoip]\ncountry_db = \"" + mmdb + "\"\n");
        ViewDb.write(dir.resolve("data/peekd.db"), Instant.now());
        Files.writeString(dir.resolve("data/state.json"), """
                {"version": 1,
                 "executables": {
                   "/usr/bin/curl": {"hashes": {"%s": {"package": "dpkg:curl", "package_status": "matches"}}},
                   "/usr/bin/bash": {"hashes": {"%s": {"package": "dpkg:bash", "package_status": "mismatch"}}}},
                 "virustotal": {"%s": {"verdict": "suspicious", "malicious": 3}}}
                """.formatted(ViewDb.CURL_SHA, ViewDb.BASH_SHA, ViewDb.WGET_SHA));
        String[] r = run("view", "--config", cfg.toString(), "--print", "--tab", "sha256");
        assertThat(r[0]).as(r[2]).isEqualTo("0");
        assertThat(r[1]).containsPattern(ViewDb.CURL_SHA.substring(0, 12) + ".*packaged")
                .containsPattern(ViewDb.WGET_SHA.substring(0, 12) + ".*suspicious \\(3 engines\\)");
        r = run("view", "--config", cfg.toString(), "--print", "--tab", "psha256");
        assertThat(r[1]).containsPattern(ViewDb.BASH_SHA.substring(0, 12) + ".*NOT as packaged");
        r = run("view", "--config", cfg.toString(), "--print", "--tab", "raddr");
        // What the file itself says of the address, read with the MaxMind reader directly.
        String cc;
        try (com.maxmind.db.Reader geo = new com.maxmind.db.Reader(mmdb.toFile())) {
            Map<?, ?> rec = geo.get(java.net.InetAddress.getByName("93.184.216.34"), Map.class);
            // DB-IP's lite files carry country_code; MaxMind's carry country.iso_code.
            cc = rec.get("country_code") instanceof String s ? s : (String) ((Map<?, ?>) rec.get("country")).get("iso_code");
        }
        assertThat(cc).matches("[A-Z]{2}");
        assertThat(r[1]).containsPattern("COUNTRY").containsPattern("93\\.184\\.216\\.34\\s+" + cc + "\\b");
    }

    @Test
    void aFileThatIsNotADatabaseIsRefused() throws Exception {
        Path cfg = config();
        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/peekd.db"), "not sqlite at all, just text ".repeat(100));
        String[] r = run("view", "--config", cfg.toString(), "--print");
        assertThat(r[0]).isEqualTo("1");
        assertThat(r[2]).startsWith("peekd: ").contains("peekd.db");
    }
}

package io.peekd.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigLoaderTest {

    /** Surefire runs in the project directory. */
    private static final Path SHIPPED = Path.of("config/config.toml");
    private static final Path DOC = Path.of("docs/config.md");

    @TempDir
    Path dir;

    /** A config with every value different from its default. */
    static Config everythingChanged() {
        return new Config(
                new Config.Paths(Path.of("/srv/peekd/data"), Path.of("/srv/peekd/run"), Path.of("/srv/peekd/log")),
                new Config.Database(false, 90, 60, true, false, false, false, 91, 800, 4000, Duration.ofMinutes(5), "",
                        // type stays off: a mirror needs database.enabled, which is off here
                        new Config.Database.Server("", "db.example", 3307, "fleet", "alice", "s3cret",
                                Path.of("/etc/peekd/db.cred"), "flows_all", "box-7", 1000)),
                new Config.Monitoring(true),
                new Config.Capture(1 << 20, 65_536, 250),
                new Config.Log(List.of(53, 123, 0, 65_535), List.of("example.com", "xn--bcher-kva.example"),
                        List.of(Cidr.parse("10.0.0.0/8"), Cidr.parse("fd00::/8"), Cidr.parse("192.0.2.7/32")),
                        List.of("ab".repeat(32)), Config.Log.Level.TRACE),
                new Config.Metrics(5, 9_100),
                new Config.Broadcast(50_000),
                new Config.Desktop("alice", false, "unix:path=/run/user/1000/bus"),
                new Config.Web(true, 8_080, InetAddress.ofLiteral("::"), 5, Duration.ofDays(7), 50,
                        List.of("monitor.example"), java.util.Optional.of(Path.of("/srv/geo/country.mmdb"))),
                new Config.Identity(OptionalLong.of(0), 4_096, 8),
                new Config.VirusTotal("0123abcd", true, 60, "http://127.0.0.1:8080/vt"),
                new Config.GeoIp(false, Path.of("/srv/geo/c.mmdb"), Path.of("/srv/geo/a.mmdb")),
                new Config.Alerts(Path.of("/srv/peekd/alerts.toml"), 8, 50));
    }

    @Test
    void theShippedConfigIsTheDefaults() throws ConfigException {
        assertThat(ConfigLoader.load(SHIPPED.toAbsolutePath())).isEqualTo(Config.defaults());
    }

    @Test
    void theShippedConfigAndTheDocShowEveryKey() throws IOException {
        String shipped = Files.readString(SHIPPED);
        String doc = Files.readString(DOC);
        var schema = Binder.schema();
        assertThat(schema).hasSize(14);
        schema.forEach((section, keys) -> {
            assertThat(shipped).contains("\n[" + section + "]\n");
            // Each key sits in its own section of the shipped file, commented out only when its default is "absent".
            int start = shipped.indexOf("\n[" + section + "]\n");
            int end = shipped.indexOf("\n[", start + 1);
            String body = shipped.substring(start, end < 0 ? shipped.length() : end);
            for (String key : keys) {
                assertThat(body).as("[%s] in config.toml", section).containsPattern("(?m)^(# )?" + key + " = ");
                assertThat(doc).as("docs/config.md").contains("| `" + section + "." + key + "` |");
            }
        });
    }

    @Test
    void defaultsAreTheDocumentedValues() {
        Config d = Config.defaults();
        assertThat(d.paths().db()).isEqualTo(Path.of("/var/lib/peekd/peekd.db"));
        assertThat(d.paths().state()).isEqualTo(Path.of("/var/lib/peekd/state.json"));
        assertThat(d.paths().socket()).isEqualTo(Path.of("/run/peekd/peekd.sock"));
        assertThat(d.paths().metrics()).isEqualTo(Path.of("/run/peekd/metrics.json"));
        assertThat(d.paths().log()).isEqualTo(Path.of("/var/log/peekd/peekd.log"));
        assertThat(d.paths().errorLog()).isEqualTo(Path.of("/var/log/peekd/error.log"));
        assertThat(d.database().retention()).isEqualTo(Duration.ofDays(30));
        assertThat(d.database().writeLimit()).isEqualTo(Duration.ofSeconds(5));
        assertThat(d.capture().ringBufferBytes()).isEqualTo(1L << 20);
        assertThat(d.log().ignorePorts()).containsExactly(53);
        assertThat(d.log().ignoreIps()).hasToString("[127.0.0.0/8, ::1/128]");
        assertThat(d.log().level()).isEqualTo(Config.Log.Level.INFO);
        assertThat(d.web().bind()).isEqualTo(InetAddress.ofLiteral("127.0.0.1"));
        assertThat(d.web().defaultSince()).isEqualTo(Duration.ofHours(24));
        assertThat(d.identity().stDevMask()).isEmpty();
        assertThat(d.virustotal().enabled()).isFalse();
        assertThat(d.alerts().file()).isEqualTo(Path.of("/etc/peekd/alerts.toml"));
    }

    @Test
    void anEmptyFileOrOneWithOnlyCommentsIsTheDefaults() throws IOException, ConfigException {
        Path empty = Files.writeString(dir.resolve("empty.toml"), "");
        Path comments = Files.writeString(dir.resolve("comments.toml"), "# nothing here\n\n   # at all\n");
        Path sections = Files.writeString(dir.resolve("sections.toml"), "[web]\n[log]\n[identity]\n");
        assertThat(ConfigLoader.load(empty)).isEqualTo(Config.defaults());
        assertThat(ConfigLoader.load(comments)).isEqualTo(Config.defaults());
        assertThat(ConfigLoader.load(sections)).isEqualTo(Config.defaults());
    }

    @Test
    void aMissingFileAtTheDefaultPathIsTheDefaults() throws ConfigException {
        // The real /etc/peekd may exist on this machine, so stand in a path of our own for the default.
        Path absent = dir.resolve("etc/peekd/config.toml");
        assertThat(ConfigLoader.load(absent, absent)).isEqualTo(Config.defaults());
        assertThat(ConfigLoader.DEFAULT_PATH).isEqualTo(Path.of("/etc/peekd/config.toml"));
    }

    @Test
    void absentKeysTakeTheirDefaults() throws IOException, ConfigException {
        Path file = Files.writeString(dir.resolve("config.toml"), """
                [paths]
                data_dir = "/tmp/peekd-a/"

                [web]
                port = 8000
                """);

        Config c = ConfigLoader.load(file);

        Config d = Config.defaults();
        assertThat(c.paths().db()).isEqualTo(Path.of("/tmp/peekd-a/peekd.db"));
        assertThat(c).isEqualTo(new Config(
                new Config.Paths(Path.of("/tmp/peekd-a"), Path.of("/run/peekd"), Path.of("/var/log/peekd")),
                d.database(), d.monitoring(), d.capture(), d.log(), d.metrics(), d.broadcast(), d.desktop(),
                new Config.Web(false, 8000, InetAddress.ofLiteral("127.0.0.1"), 30, Duration.ofHours(24), 200, List.of(),
                        java.util.Optional.empty()),
                d.identity(), d.virustotal(), d.geoip(), d.alerts()));
    }

    @Test
    void aFullHandWrittenFileLoadsEveryValue() throws IOException, ConfigException {
        Path file = Files.writeString(dir.resolve("config.toml"), """
                \uFEFF# a byte order mark, comments and each TOML way of writing a key
                monitoring.every_exe = true   # a dotted key before any table

                [paths]
                data_dir = "/srv/peekd/data"
                run_dir = '/srv/peekd/run'
                log_dir = "/srv/peekd//log/"

                [database]
                enabled = false
                retention_days = 90
                write_limit_seconds = 60
                text_log = true
                log_addresses = false
                log_ports = false
                log_commands = false
                rollup_minute_days = 91
                rollup_hour_days = 800
                rollup_day_days = 4000
                maintenance_interval = "5m"
                reader_group = ""

                [database.server]
                type = ""
                host = "db.example"
                port = 3307
                database = "fleet"
                user = "alice"
                password = "s3cret"
                credentials_file = "/etc/peekd/db.cred"
                table = "flows_all"
                host_label = "box-7"
                batch_rows = 1000

                [capture]
                flow_map_entries = 1_048_576
                ring_buffer_kib = 0x10000
                drain_interval_ms = 250

                [log]
                ignore_ports = [53, 123, 0, 65535]
                ignore_domains = ["Example.COM.", "bücher.example"]
                ignore_ips = [
                  "10.0.0.0/8",   # private
                  "FD00::/8",
                  "192.0.2.7",
                ]
                ignore_sha256 = ["ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB"]
                level = "TRACE"

                [metrics]
                interval_seconds = 5
                prometheus_port = 9100

                [broadcast]
                channel_capacity = 50000

                [desktop]
                user = "alice"
                notifications = false
                bus_address = "unix:path=/run/user/1000/bus"

                [web]
                enabled = true
                port = 8080
                bind = "::"
                refresh_seconds = 5
                default_since = "1w"
                top_limit = 50
                allowed_hosts = ["Monitor.Example."]
                geoip_db = "/srv/geo/country.mmdb"

                [identity]
                st_dev_mask = 0
                fd_cache_size = 4096
                hash_threads = 8

                [virustotal]
                api_key = "0123abcd"
                file_upload = true
                request_limit_seconds = 60
                base_url = "http://127.0.0.1:8080/vt/"

                [geoip]
                enabled = false
                country_db = "/srv/geo/c.mmdb"
                asn_db = "/srv/geo/a.mmdb"

                [alerts]
                file = "/srv/peekd/alerts.toml"
                action_threads = 8
                action_queue = 50
                """);

        assertThat(ConfigLoader.load(file)).isEqualTo(everythingChanged());
    }

    @Test
    void anInlineTableMeansTheSameAsASection() throws IOException, ConfigException {
        Path inline = Files.writeString(dir.resolve("a.toml"), "web = { port = 8080, bind = \"::1\" }\n");
        Path table = Files.writeString(dir.resolve("b.toml"), "[web]\nport = 8080\nbind = \"::1\"\n");
        assertThat(ConfigLoader.load(inline)).isEqualTo(ConfigLoader.load(table));
        assertThat(ConfigLoader.load(inline).web().port()).isEqualTo(8080);
    }

    @Test
    void everythingRoundTripsThroughTheWriter() throws IOException, ConfigException {
        for (Config c : List.of(Config.defaults(), everythingChanged())) {
            Path file = Files.writeString(dir.resolve("written.toml"), ConfigWriter.toToml(c, true));
            assertThat(ConfigLoader.load(file)).isEqualTo(c);
        }
    }

    @Test
    void theWriterLeavesOutTheApiKeyUnlessAsked() throws IOException, ConfigException {
        Config c = everythingChanged();
        String toml = ConfigWriter.toToml(c, false);
        assertThat(toml).doesNotContain("0123abcd").doesNotContain("s3cret");
        Path file = Files.writeString(dir.resolve("written.toml"), toml, StandardCharsets.UTF_8);
        assertThat(ConfigLoader.load(file).virustotal().apiKey()).isEmpty();
    }

    @Test
    void theApiKeyStaysOutOfToString() {
        assertThat(everythingChanged().toString()).doesNotContain("0123abcd").contains("apiKey=(set)")
                .doesNotContain("s3cret").contains("password=(set)");
    }
}

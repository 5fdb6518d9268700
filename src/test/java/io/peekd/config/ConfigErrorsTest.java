package io.peekd.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.assertj.core.api.Assertions.tuple;

import io.peekd.config.ConfigException.Kind;
import io.peekd.config.ConfigException.Problem;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kind of mistake, written to a real file, must name the right key and line. */
class ConfigErrorsTest {

    @TempDir
    Path dir;

    record Case(String name, String toml, Kind kind, String key, int line, String message) {
        @Override
        public String toString() {
            return name;
        }
    }

    static Stream<Case> cases() {
        return Stream.of(
                new Case("syntax: value missing", "[web]\nenabled = true\nport = = 1\n",
                        Kind.SYNTAX, "", 3, "invalid TOML at column 8"),
                new Case("syntax: unterminated string", "[desktop]\n\nuser = \"root\n",
                        Kind.SYNTAX, "", 3, "invalid TOML at column 13: Unexpected end of line"),
                new Case("syntax: table defined twice", "[web]\nport = 1\n\n[web]\nbind = \"::1\"\n",
                        Kind.SYNTAX, "", 4, "web previously defined at line 1"),
                new Case("syntax: key defined twice", "[web]\nport = 1\nport = 2\n",
                        Kind.SYNTAX, "", 3, "invalid TOML at column 1: port previously defined at line 2"),
                new Case("unknown section, near a real one", "[database]\nenabled = true\n\n[databse]\nretention_days = 3\n",
                        Kind.UNKNOWN_SECTION, "databse", 4, "unknown section [databse]; did you mean [database]?"),
                new Case("unknown section, nothing near", "[zzzz]\nx = 1\n",
                        Kind.UNKNOWN_SECTION, "zzzz", 1, "unknown section [zzzz]; sections are paths, database,"),
                new Case("unknown array of tables", "[[zzzz]]\nname = \"x\"\n",
                        Kind.UNKNOWN_SECTION, "zzzz", 1, "unknown section [zzzz]"),
                new Case("alert rules pasted into the config", "[[alerts]]\nname = \"x\"\n",
                        Kind.WRONG_TYPE, "alerts", 1, "[[alerts]] rules belong in the file named by alerts.file"),
                new Case("unknown key with a typo", "[web]\nenabled = true\n# the port\nprot = 5100\n",
                        Kind.UNKNOWN_KEY, "web.prot", 4, "unknown key \"prot\" in [web]; did you mean port?"),
                new Case("unknown key of another section", "[web]\nlevel = \"debug\"\n",
                        Kind.UNKNOWN_KEY, "web.level", 2, "did you mean log.level?"),
                new Case("unknown key with no suggestion", "[metrics]\ninterval_seconds = 3\ncolour = \"red\"\n",
                        Kind.UNKNOWN_KEY, "metrics.colour", 3, "unknown key \"colour\" in [metrics]"),
                new Case("key outside any section", "port = 5100\n[web]\n",
                        Kind.UNKNOWN_KEY, "port", 1, "\"port\" is outside any section; did you mean database.server.port or web.port?"),
                new Case("subtable of a known section", "[web]\nport = 1\n[web.tls]\ncert = \"x\"\n",
                        Kind.UNKNOWN_KEY, "web.tls", 3, "unknown key \"tls\" in [web]"),
                new Case("quoted key is shown quoted", "[web]\n\"my port\" = 1\n",
                        Kind.UNKNOWN_KEY, "web.\"my port\"", 2, "unknown key \"my port\""),
                new Case("wrong type: string for integer", "[web]\nport = \"abc\"\n",
                        Kind.WRONG_TYPE, "web.port", 2, "expected an integer 1..65535, got \"abc\""),
                new Case("wrong type: float for integer", "[database]\nretention_days = 1.5\n",
                        Kind.WRONG_TYPE, "database.retention_days", 2, "expected an integer 1..36500, got 1.5"),
                new Case("wrong type: string for boolean", "[database]\nenabled = \"yes\"\n",
                        Kind.WRONG_TYPE, "database.enabled", 2, "expected true or false, got \"yes\""),
                new Case("wrong type: integer for string", "[desktop]\nuser = 0\n",
                        Kind.WRONG_TYPE, "desktop.user", 2, "expected a user name such as root, got 0"),
                new Case("wrong type: scalar for array", "[log]\nignore_domains = \"localhost\"\n",
                        Kind.WRONG_TYPE, "log.ignore_domains", 2, "expected an array, each element a domain name"),
                new Case("wrong type: element of array", "[log]\nignore_ports = [53, \"80\"]\n",
                        Kind.WRONG_TYPE, "log.ignore_ports[1]", 2, "expected an integer 0..65535, got \"80\""),
                new Case("wrong type: section as a value", "\nweb = 5\n",
                        Kind.WRONG_TYPE, "web", 2, "expected a table [web], got 5"),
                new Case("wrong type: date for integer", "[web]\nport = 1979-05-27\n",
                        Kind.WRONG_TYPE, "web.port", 2, "expected an integer 1..65535"),
                new Case("out of range: too big", "[web]\nport = 70000\n",
                        Kind.OUT_OF_RANGE, "web.port", 2, "expected an integer 1..65535, got 70000"),
                new Case("out of range: too small", "[capture]\ndrain_interval_ms = 10\n",
                        Kind.OUT_OF_RANGE, "capture.drain_interval_ms", 2, "expected an integer 100..60000, got 10"),
                new Case("out of range: not a power of two", "[capture]\nring_buffer_kib = 100\n",
                        Kind.OUT_OF_RANGE, "capture.ring_buffer_kib", 2, "expected a power of two 64..262144, got 100"),
                new Case("out of range: beyond 64 bits", "[identity]\nst_dev_mask = 99999999999999999999\n",
                        Kind.OUT_OF_RANGE, "identity.st_dev_mask", 2, "expected an integer 0..0xffffffff"),
                new Case("out of range: negative mask", "[identity]\nst_dev_mask = -1\n",
                        Kind.OUT_OF_RANGE, "identity.st_dev_mask", 2, "got -1"),
                new Case("out of range: element of array", "[log]\nignore_ports = [53, 65536]\n",
                        Kind.OUT_OF_RANGE, "log.ignore_ports[1]", 2, "got 65536"),
                new Case("bad CIDR: prefix", "[log]\nignore_ips = [\"127.0.0.0/8\", \"10.0.0.0/33\"]\n",
                        Kind.BAD_VALUE, "log.ignore_ips[1]", 2, "got \"10.0.0.0/33\" (prefix length must be 0..32 for IPv4, got 33)"),
                new Case("bad CIDR: not an address", "[log]\nignore_ips = [\"router.lan/24\"]\n",
                        Kind.BAD_VALUE, "log.ignore_ips[0]", 2, "expected an IP network such as 10.0.0.0/8 or fd00::/8"),
                new Case("bad CIDR: host bits", "[log]\nignore_ips = [\"fd00::1/8\"]\n",
                        Kind.BAD_VALUE, "log.ignore_ips[0]", 2, "did you mean fd00::/8?"),
                new Case("bad sha256: short", "[log]\nignore_sha256 = [\"abc\"]\n",
                        Kind.BAD_VALUE, "log.ignore_sha256[0]", 2, "expected a sha256 of 64 hex digits, got \"abc\" (3 characters, not 64)"),
                new Case("bad sha256: not hex", "[log]\nignore_sha256 = [\"" + "g".repeat(64) + "\"]\n",
                        Kind.BAD_VALUE, "log.ignore_sha256[0]", 2, "not all hex digits"),
                new Case("bad duration", "[web]\nport = 80\ndefault_since = \"24 hours\"\n",
                        Kind.BAD_VALUE, "web.default_since", 3, "unknown unit \"hours\""),
                new Case("bad duration: no unit", "[web]\ndefault_since = \"30\"\n",
                        Kind.BAD_VALUE, "web.default_since", 2, "has no unit"),
                new Case("bad log level", "[log]\nlevel = \"verbose\"\n",
                        Kind.BAD_VALUE, "log.level", 2, "expected one of error, warn, info, debug or trace, got \"verbose\""),
                new Case("bad bind address", "[web]\nbind = \"localhost\"\n",
                        Kind.BAD_VALUE, "web.bind", 2, "host names are not accepted here"),
                new Case("bad path", "[paths]\ndata_dir = \"var/lib/peekd\"\n",
                        Kind.BAD_VALUE, "paths.data_dir", 2, "expected an absolute path"),
                new Case("bad domain", "[log]\nignore_domains = [\"*.example.com\"]\n",
                        Kind.BAD_VALUE, "log.ignore_domains[0]", 2, "write example.com instead"),
                new Case("bad user", "[desktop]\nuser = \"john smith\"\n",
                        Kind.BAD_VALUE, "desktop.user", 2, "not a valid user name"),
                new Case("bad api key", "[virustotal]\napi_key = \" abc\"\n",
                        Kind.BAD_VALUE, "virustotal.api_key", 2, "spaces or control characters"),
                new Case("prometheus on the web port", "[web]\nenabled = true\n[metrics]\nprometheus_port = 5100\n",
                        Kind.BAD_VALUE, "metrics.prometheus_port", 4, "already the web dashboard's port"),
                new Case("dotted key form", "web.port = 0\n",
                        Kind.OUT_OF_RANGE, "web.port", 1, "got 0"),
                new Case("inline table form", "web = { enabled = true, port = -3 }\n",
                        Kind.OUT_OF_RANGE, "web.port", 1, "got -3"),
                new Case("run_dir too deep for the socket", "[paths]\nrun_dir = \"/" + "d".repeat(96) + "\"\n",
                        Kind.BAD_VALUE, "paths.run_dir", 2, "/peekd.sock would be 108 bytes and Unix sockets take at"
                        + " most 107; use a shorter directory such as /run/peekd"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void namesTheKeyAndLine(Case c) throws IOException {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, c.toml());

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));

        assertThat(e).as("a config with %s must be refused", c.name()).isNotNull();
        assertThat(e.problems()).as(e.getMessage()).hasSize(1);
        assertThat(e.kind()).as(e.getMessage()).isEqualTo(c.kind());
        assertThat(e.key()).as(e.getMessage()).isEqualTo(c.key());
        assertThat(e.line()).as(e.getMessage()).isEqualTo(c.line());
        assertThat(e.file()).isEqualTo(file);
        assertThat(e.getMessage())
                .startsWith(file + ":" + c.line() + ": " + (c.key().isEmpty() ? "" : c.key() + ": "))
                .contains(c.message());
    }

    @Test
    void aRunDirWhoseSocketPathFitsIsTaken() throws Exception {
        Path file = Files.writeString(dir.resolve("config.toml"), "[paths]\nrun_dir = \"/" + "d".repeat(95) + "\"\n");
        assertThat(ConfigLoader.load(file).paths().socket().toString()).hasSize(107);
    }

    @Test
    void messageHasTheDocumentedShape() throws IOException {
        var toml = new StringBuilder();
        for (int i = 1; i <= 10; i++) {
            toml.append("# line ").append(i).append('\n');
        }
        toml.append("[web]\nport = \"abc\"\n");
        Path file = dir.resolve("config.toml");
        Files.writeString(file, toml);

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));

        assertThat(e.getMessage()).isEqualTo(file + ":12: web.port: expected an integer 1..65535, got \"abc\"");
    }

    @Test
    void reportsEveryProblemAtOnceInFileOrder() throws IOException {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, """
                [web]
                port = 0
                bnd = "127.0.0.1"

                [log]
                ignore_ips = [
                  "10.0.0.0/8",
                  "10.0.0.1/8",
                ]
                level = "loud"

                [metrix]
                interval_seconds = 5
                """);

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));

        assertThat(e.problems()).extracting(Problem::key, Problem::line, Problem::kind).containsExactly(
                tuple("web.port", 2, Kind.OUT_OF_RANGE),
                tuple("web.bnd", 3, Kind.UNKNOWN_KEY),
                // An element's line is its key's: tomlj's positions for elements are not exact.
                tuple("log.ignore_ips[1]", 6, Kind.BAD_VALUE),
                tuple("log.level", 10, Kind.BAD_VALUE),
                tuple("metrix", 12, Kind.UNKNOWN_SECTION));
        assertThat(e.getMessage().lines()).hasSize(5);
        assertThat(e.problems().get(1).detail()).endsWith("did you mean bind?");
        assertThat(e.problems().get(4).detail()).endsWith("did you mean [metrics]?");
    }

    @Test
    void nineteenDigitIntegersAreReadExactly() throws IOException {
        // Jackson 2.20 reads this as 80 (it drops the leading digit); the port must be refused, not opened on 80.
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "[web]\nport = 1000000000000000080\n");

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));

        assertThat(e.kind()).isEqualTo(Kind.OUT_OF_RANGE);
        assertThat(e.getMessage()).endsWith("got 1000000000000000080");
    }

    @Test
    void explicitMissingFileIsAnError() {
        Path file = dir.resolve("nope.toml");

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));

        assertThat(e.kind()).isEqualTo(Kind.UNREADABLE);
        assertThat(e.line()).isZero();
        assertThat(e.key()).isEmpty();
        assertThat(e.getMessage()).isEqualTo(file + ": no such file");
    }

    @Test
    void aDirectoryIsAnError() throws IOException {
        Path sub = Files.createDirectory(dir.resolve("config.toml"));

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(sub));

        assertThat(e.kind()).isEqualTo(Kind.UNREADABLE);
        assertThat(e.getMessage()).startsWith(sub + ": cannot read: ").containsIgnoringCase("directory");
    }

    @Test
    void textThatIsNotUtf8IsAnError() throws IOException {
        Path file = dir.resolve("config.toml");
        Files.write(file, "[desktop]\nuser = \"ren\u00e9\"\n".getBytes(StandardCharsets.ISO_8859_1));

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));

        assertThat(e.kind()).isEqualTo(Kind.UNREADABLE);
        assertThat(e.getMessage()).contains("not UTF-8");
    }

    @Test
    void aHugeFileIsRefusedWithoutReadingItAll() throws IOException {
        Path file = dir.resolve("config.toml");
        Files.write(file, new byte[ConfigLoader.MAX_BYTES + 1]);

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));

        assertThat(e.kind()).isEqualTo(Kind.UNREADABLE);
        assertThat(e.getMessage()).contains("larger than 1024 KiB");
    }

    @Test
    void deeplyNestedInputIsAnErrorNotACrash() throws IOException {
        Path file = dir.resolve("config.toml");
        Files.writeString(file, "x = " + "[".repeat(100_000) + "\n");

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(file));

        assertThat(e.kind()).isEqualTo(Kind.SYNTAX);
    }
}

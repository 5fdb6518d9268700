package io.peekd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.testkit.TestConfig;
import io.peekd.testkit.Tgen;
import io.peekd.web.TestDb;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A one-shot command as its own JVM, the way a user runs it: stdout carries the answer and
 * stderr stays empty, although the view opens the GeoIP databases and logs an INFO note
 * about the missing ASN one; errors still get through.
 */
class QuietCommandTest {

    private static String[] peekd(Path cfg, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), "io.peekd.cli.Main"));
        cmd.addAll(List.of(args));
        cmd.addAll(List.of("--config", cfg.toString()));
        Path dir = cfg.getParent();
        Process p = new ProcessBuilder(cmd).redirectOutput(dir.resolve("out").toFile())
                .redirectError(dir.resolve("err").toFile()).start();
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new String[] {Integer.toString(p.exitValue()), Files.readString(dir.resolve("out")),
                Files.readString(dir.resolve("err"))};
    }

    @Test
    void aReportPrintsItsTableAndNothingOnStderr() throws Exception {
        Path dir = Files.createTempDirectory(Tgen.testDir(), "quiet-");
        TestDb.create(Files.createDirectories(dir.resolve("data")));
        Path cfg = dir.resolve("config.toml");
        Files.writeString(cfg, TestConfig.paths(dir) + """

                [geoip]
                asn_db = "%s/no-such-asn.mmdb"
                """.formatted(dir));
        String[] r = peekd(cfg, "view", "--print", "--range", "30d");
        assertThat(r[0]).isEqualTo("0");
        assertThat(r[1]).contains("/usr/bin/curl");
        assertThat(r[2]).isEmpty();

        // Errors still reach stderr: a bad value in the config is named with its key.
        Files.writeString(cfg, Files.readString(cfg) + "\n[log]\nlevel = \"loud\"\n");
        String[] bad = peekd(cfg, "view", "--print", "--range", "30d");
        assertThat(bad[0]).isEqualTo("2");
        assertThat(bad[2]).contains("level");
    }
}

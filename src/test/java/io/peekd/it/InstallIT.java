package io.peekd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.testkit.Exec;
import io.peekd.testkit.TestConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `peekd install` / `peekd uninstall` from the built jar, into a prefix of the test's own. */
class InstallIT {
    private static Exec peekd(Path launcherOrNull, String... args) {
        List<String> argv = new ArrayList<>();
        if (launcherOrNull == null) {
            argv.addAll(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "--enable-native-access=ALL-UNNAMED", "-jar", System.getProperty("peekd.jar")));
        } else {
            argv.add(launcherOrNull.toString());
        }
        argv.addAll(List.of(args));
        return Exec.run(Duration.ofMinutes(5), argv);
    }

    @Test
    void installsRunsAndUninstallsLeavingOnlyWhatTheUserKeeps(@TempDir Path dir) throws Exception {
        Path prefix = dir.resolve("usr"), etc = dir.resolve("etc"), units = dir.resolve("units");
        Files.createDirectories(etc);
        Files.writeString(etc.resolve("config.toml"), TestConfig.paths(dir));
        String[] install = {"install", "--prefix", prefix.toString(), "--config-dir", etc.toString(), "--unit-dir", units.toString()};
        Exec in = peekd(null, install);
        assertThat(in.exitCode()).as(in.stderr()).isZero();
        assertThat(in.stdout()).contains("installed " + prefix.resolve("bin/peekd"), "kept      " + etc.resolve("config.toml"),
                "installed " + units.resolve("peekd.service"));
        Path launcher = prefix.resolve("bin/peekd");
        assertThat(Files.isExecutable(launcher)).isTrue();
        assertThat(prefix.resolve("lib/peekd/peekd.jar")).exists();
        assertThat(prefix.resolve("share/bash-completion/completions/peekd")).content().contains("complete", "doctor");
        assertThat(Files.readString(units.resolve("peekd.service")))
                .contains("ExecStart=" + launcher + " daemon --config " + etc.resolve("config.toml"));
        boolean aot = in.stdout().contains("built     " + prefix.resolve("lib/peekd/peekd.aot"));
        assertThat(aot || in.stdout().contains("skipped   the AOT cache")).isTrue();
        if (aot) {
            // The training run left sqlite-jdbc's library beside the jar, for every later command.
            try (var s = Files.list(prefix.resolve("lib/peekd/native"))) {
                assertThat(s.map(p -> p.getFileName().toString()).toList()).singleElement()
                        .satisfies(n -> assertThat(n).matches("libsqlitejdbc-[0-9a-f]+\\.so"));
            }
        }

        // The installed launcher runs commands, with the AOT cache (if built) and without a word about it.
        Exec version = peekd(launcher, "--version");
        assertThat(version.exitCode()).isZero();
        assertThat(version.stdout()).contains("peekd " + System.getProperty("peekd.version"));
        assertThat(version.stderr()).isEmpty();
        Exec status = peekd(launcher, "status", "--config", etc.resolve("config.toml").toString());
        assertThat(status.exitCode()).isEqualTo(3);
        assertThat(status.stdout()).contains("peekd is not running");

        Files.createDirectories(dir.resolve("data"));
        Files.writeString(dir.resolve("data/peekd.db"), "history");
        Exec un = peekd(null, "uninstall", "--prefix", prefix.toString());
        assertThat(un.exitCode()).as(un.stderr()).isZero();
        assertThat(prefix.resolve("bin/peekd")).doesNotExist();
        assertThat(prefix.resolve("lib/peekd")).doesNotExist();
        assertThat(units.resolve("peekd.service")).doesNotExist();
        assertThat(etc.resolve("config.toml")).exists();
        assertThat(dir.resolve("data/peekd.db")).exists();

        assertThat(peekd(null, install).exitCode()).isZero();
        Files.createDirectories(dir.resolve("log"));
        Exec purge = peekd(null, "uninstall", "--prefix", prefix.toString(), "--purge", "--purge-data");
        assertThat(purge.exitCode()).as(purge.stderr()).isZero();
        assertThat(etc.resolve("config.toml")).doesNotExist();
        assertThat(dir.resolve("data")).doesNotExist();
        assertThat(dir.resolve("log")).doesNotExist();
        assertThat(peekd(null, "uninstall", "--prefix", prefix.toString()).exitCode()).isEqualTo(1);
    }
}

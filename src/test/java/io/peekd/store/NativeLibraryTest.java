package io.peekd.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibraryTest {

    @TempDir
    Path dir;

    private static byte[] shipped() throws Exception {
        String arch = System.getProperty("os.arch").equals("aarch64") ? "aarch64" : "x86_64";
        try (InputStream in = NativeLibrary.class.getClassLoader()
                .getResourceAsStream("org/sqlite/native/Linux/" + arch + "/libsqlitejdbc.so")) {
            return in.readAllBytes();
        }
    }

    @Test
    void theLibraryIsWrittenOnceUnderANameOfItsContentAndReadableByAll() throws Exception {
        Path nat = dir.resolve("native");
        Path lib = NativeLibrary.lastingCopy(nat).orElseThrow();
        assertThat(lib.getParent()).isEqualTo(nat);
        assertThat(lib.getFileName().toString()).matches("libsqlitejdbc-[0-9a-f]+\\.so");
        assertThat(Files.readAllBytes(lib)).isEqualTo(shipped());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(lib))).isEqualTo("rw-r--r--");
        Object inode = Files.getAttribute(lib, "unix:ino");
        assertThat(NativeLibrary.lastingCopy(nat)).contains(lib);
        assertThat(Files.getAttribute(lib, "unix:ino")).as("not written again").isEqualTo(inode);
        try (Stream<Path> s = Files.list(nat)) {
            assertThat(s.toList()).containsExactly(lib); // no temporary file left behind
        }
    }

    @Test
    void aLibraryOthersCouldHaveChangedIsNotUsed() throws Exception {
        Path nat = dir.resolve("native");
        Path lib = NativeLibrary.lastingCopy(nat).orElseThrow();
        Files.setPosixFilePermissions(lib, PosixFilePermissions.fromString("rw-rw-rw-"));
        assertThat(NativeLibrary.lastingCopy(nat)).isEmpty();
        Files.setPosixFilePermissions(lib, PosixFilePermissions.fromString("rw-r--r--"));
        Files.setPosixFilePermissions(nat, PosixFilePermissions.fromString("rwxrwxrwx"));
        assertThat(NativeLibrary.lastingCopy(nat)).isEmpty();
        // A directory whose parent is missing is not created: sqlite-jdbc's default applies.
        assertThat(NativeLibrary.lastingCopy(dir.resolve("no/such/native"))).isEmpty();
    }

    @Test
    void aCommandInAnotherJvmLoadsTheKeptLibraryInsteadOfExtractingOne() throws Exception {
        Path data = dir.resolve("data");
        try (Store s = Store.open(data.resolve("peekd.db"))) {
            s.writer().submit(List.of(Rows.tcp(java.time.Instant.now(), Rows.curl(42), 40000, 1234, 5678, 1)));
            assertThat(s.writer().flush(Duration.ofSeconds(30))).isTrue();
        }
        Path cfg = dir.resolve("config.toml");
        Files.writeString(cfg, "[paths]\ndata_dir = \"" + data + "\"\nrun_dir = \"" + dir.resolve("run")
                + "\"\nlog_dir = \"" + dir.resolve("log") + "\"\n");
        Path nat = dir.resolve("native");
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        // This JVM may have extracted a library there itself when it wrote the rows above.
        List<Path> before = extracted(data.resolve("tmp"));
        for (int run = 0; run < 2; run++) {
            Process p = new ProcessBuilder(java.toString(), "-Xmx64m", "--enable-native-access=ALL-UNNAMED",
                    "-D" + NativeLibrary.DIR_PROPERTY + "=" + nat, "-Djava.io.tmpdir=" + dir.resolve("tmp"),
                    "-cp", System.getProperty("java.class.path"), "io.peekd.cli.Main", "report", "--since", "1h",
                    "--by", "exe", "--units", "bytes", "--config", cfg.toString()).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            assertThat(p.exitValue()).as(out).isZero();
            assertThat(out).contains("/usr/bin/curl").contains("1234").contains("5678");
        }
        try (Stream<Path> s = Files.list(nat)) {
            assertThat(s.toList()).singleElement().satisfies(l -> assertThat(Files.readAllBytes(l)).isEqualTo(shipped()));
        }
        // sqlite-jdbc extracts into data_dir/tmp when it has to: nothing new there means it did not.
        assertThat(extracted(data.resolve("tmp"))).isEqualTo(before);
    }

    private static List<Path> extracted(Path tmp) throws Exception {
        if (!Files.isDirectory(tmp)) return List.of();
        try (Stream<Path> s = Files.list(tmp)) {
            return s.filter(f -> f.getFileName().toString().endsWith(".so")).sorted().toList();
        }
    }
}

package io.peekd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.testkit.Exec;
import io.peekd.testkit.Tgen;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Executable identity end to end: a real daemon, real programs, real files
 * changed under it, and the results read back with {@code peekd query --json}
 * and from state.json and exe.log. Expected hashes are computed here from the
 * files' bytes, independently of the daemon.
 */
class ExeIdentityKernelTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static DaemonHarness peekd;

    @BeforeAll
    static void start() throws Exception {
        peekd = DaemonHarness.start(Map.of(
                "database", "text_log = true",
                "monitoring", "every_exe = true",
                "desktop", "notifications = false"));
    }

    @AfterAll
    static void stop() {
        if (peekd != null) peekd.close();
    }

    static String sha256(Path file) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
    }

    private static List<String> flags(JsonNode row) {
        List<String> out = new ArrayList<>();
        row.get("flags").forEach(f -> out.add(f.asText()));
        return out;
    }

    private static List<JsonNode> traffic(List<JsonNode> rows) {
        return rows.stream().filter(r -> !r.get("proto").asText().equals("exec")).toList();
    }

    private static List<JsonNode> withSha(List<JsonNode> rows, String sha) {
        return rows.stream().filter(r -> sha.equals(r.get("sha256").asText())).toList();
    }

    @Test
    void hashesTheBinaryAndFlagsNewExeThenNewHashAfterAnInPlaceChange() throws Exception {
        Path cli = Tgen.copyAs("eid-mod");
        String before = sha256(cli);
        try (Tgen.Running server = Tgen.start(Tgen.copyAs("eid-modsrv"), "tcp-sink", "--listen", "127.0.0.1:0",
                "--bytes", "1000", "--conns", "2", "--timeout", "60")) {
            int port = server.port();
            Tgen.run(cli, "tcp-send", "--to", "127.0.0.1:" + port, "--bytes", "1000");
            List<JsonNode> rows = peekd.awaitRows(cli, r -> withSha(traffic(r), before).stream().anyMatch(x -> !flags(x).isEmpty()));
            assertThat(traffic(rows)).isNotEmpty().allSatisfy(r -> assertThat(r.get("sha256").asText()).isEqualTo(before));
            // The flag goes to the rows of the window the path was first seen in (the exec row or the traffic).
            assertThat(rows).anySatisfy(r -> assertThat(flags(r)).contains("NEW_EXE").doesNotContain("NEW_HASH"));

            // Same inode, new content: only a watch on the inode (or its ctime) can tell.
            Files.write(cli, "peekd-test: appended after the first run".getBytes(StandardCharsets.UTF_8),
                    StandardOpenOption.APPEND);
            String after = sha256(cli);
            assertThat(after).isNotEqualTo(before);
            Tgen.run(cli, "tcp-send", "--to", "127.0.0.1:" + port, "--bytes", "1000");
            server.await();
            rows = peekd.awaitRows(cli, r -> withSha(traffic(r), after).stream().anyMatch(x -> !flags(x).isEmpty()));
            assertThat(withSha(traffic(rows), after)).as("rows: %s", rows).isNotEmpty();
            assertThat(withSha(rows, after)).anySatisfy(r -> assertThat(flags(r)).contains("NEW_HASH").doesNotContain("NEW_EXE"));
            assertThat(withSha(traffic(rows), before)).as("rows of the first run keep the first hash").isNotEmpty();
        }

        // state.json is rewritten every few seconds: wait (bounded) for the second hash to be in it.
        Path stateFile = peekd.dir.resolve("data/state.json");
        JsonNode exe = JSON.missingNode();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(stateFile)) {
                exe = JSON.readTree(stateFile.toFile()).path("executables").path(cli.toString());
                if (exe.path("hashes").size() >= 2) break;
            }
            Thread.sleep(200);
        }
        assertThat(exe.path("hashes").has(before)).isTrue();
        assertThat(exe.path("hashes").has(sha256(cli))).isTrue();
        assertThat(exe.path("names").toString()).contains("eid-mod");
        List<String> log = Files.readAllLines(peekd.dir.resolve("log/exe.log"));
        assertThat(log).anySatisfy(l -> assertThat(l).contains("NEW_EXE").contains(cli.toString()).contains(before));
        assertThat(log).anySatisfy(l -> assertThat(l).contains("NEW_HASH").contains(cli.toString()));
    }

    @Test
    void aBinaryReplacedByRenameWhileItRunsIsHashedAsItRan() throws Exception {
        Path srv = Tgen.copyAs("eid-ren");
        String original = sha256(srv);
        try (Tgen.Running server = Tgen.start(srv, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "4096",
                "--timeout", "60")) {
            int port = server.port();
            Path other = srv.resolveSibling("eid-ren.new");
            Files.writeString(other, "#!/bin/sh\necho not the program that runs\n");
            Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.move(other, srv, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            assertThat(sha256(srv)).isNotEqualTo(original);

            Tgen.run(Tgen.copyAs("eid-rencli"), "tcp-send", "--to", "127.0.0.1:" + port, "--bytes", "4096");
            server.await();
        }
        List<JsonNode> rows = peekd.awaitRows(srv, r -> traffic(r).stream().anyMatch(x -> x.get("recv").asLong() > 0));
        assertThat(traffic(rows)).isNotEmpty().allSatisfy(r -> assertThat(r.get("sha256").asText()).isEqualTo(original));
    }

    @Test
    void aProcessThatExitsAtOnceStillGetsItsHashAndItsParentsHash() throws Exception {
        Path cli = Tgen.copyAs("eid-quick");
        String sha = sha256(cli);
        // One datagram and no wait for an answer: the process is gone within milliseconds.
        Tgen.run(cli, "udp", "--to", "127.0.0.1:9", "--count", "1", "--size", "16", "--no-reply");
        List<JsonNode> rows = peekd.awaitRows(cli, r -> !traffic(r).isEmpty());
        String jvm = sha256(Path.of("/proc/self/exe"));
        assertThat(traffic(rows)).isNotEmpty().allSatisfy(r -> {
            assertThat(r.get("sha256").asText()).isEqualTo(sha);
            assertThat(r.get("pexe").asText()).isEqualTo(Path.of("/proc/self/exe").toRealPath().toString());
            assertThat(r.get("psha256").asText()).isEqualTo(jvm);
        });
    }

    @Test
    void everyExeRecordsAProgramThatNeverTouchesTheNetwork() throws Exception {
        Path quiet = Tgen.copyAs("eid-quiet");
        Exec.run(Duration.ofSeconds(30), List.of(quiet.toString(), "--help"));
        List<JsonNode> rows = peekd.awaitRows(quiet, r -> !r.isEmpty() && !r.getFirst().get("sha256").asText().equals("pending")
                && !flags(r.getFirst()).isEmpty());
        assertThat(rows).hasSize(1);
        JsonNode r = rows.getFirst();
        assertThat(r.get("proto").asText()).isEqualTo("exec");
        assertThat(r.get("rport").asInt()).isEqualTo(-1);
        assertThat(r.get("lport").asInt()).isEqualTo(-1);
        assertThat(r.get("sent").asLong()).isZero();
        assertThat(r.get("sha256").asText()).isEqualTo(sha256(quiet));
        assertThat(flags(r)).contains("NEW_EXE");
    }

    @Test
    void twoScriptsOfOneInterpreterAreTwoIdentities() throws Exception {
        Path dir = Files.createTempDirectory(Tgen.testDir(), "scripts-");
        // bash's /dev/tcp: the interpreter itself connects, with no helper process.
        Path a = dir.resolve("send-a.sh"), b = dir.resolve("send-b.sh");
        Files.writeString(a, "exec 3<>/dev/tcp/127.0.0.1/$1\nprintf 'aaaa' >&3\nexec 3>&-\n");
        Files.writeString(b, "# b\nexec 3<>/dev/tcp/127.0.0.1/$1\nprintf 'bbbbbbbb' >&3\nexec 3>&-\n");
        Path bash = Path.of("/bin/bash").toRealPath();
        try (Tgen.Running server = Tgen.start(Tgen.copyAs("eid-scriptsrv"), "tcp-sink", "--listen", "127.0.0.1:0",
                "--conns", "2", "--timeout", "60")) {
            int port = server.port();
            // One by absolute path, one relative to its working directory.
            Exec.run(Duration.ofSeconds(30), List.of(bash.toString(), a.toString(), Integer.toString(port))).requireOk();
            Process p = new ProcessBuilder(bash.toString(), "send-b.sh", Integer.toString(port)).directory(dir.toFile())
                    .redirectErrorStream(true).start();
            assertThat(p.waitFor()).isZero();
            server.await();
        }
        String sa = sha256(a), sb = sha256(b);
        List<JsonNode> rows = peekd.awaitRows(bash, r -> traffic(r).stream().filter(x -> x.get("script").asText("").startsWith(dir.toString()))
                .map(x -> x.get("script_sha256").asText()).distinct().filter(h -> h.equals(sa) || h.equals(sb)).count() == 2
                && traffic(r).stream().anyMatch(x -> x.get("script").asText("").equals(a.toString()) && flags(x).contains("NEW_EXE")));
        List<JsonNode> mine = traffic(rows).stream().filter(x -> x.get("script").asText("").startsWith(dir.toString())).toList();
        assertThat(mine).anySatisfy(r -> {
            assertThat(r.get("script").asText()).isEqualTo(a.toString());
            assertThat(r.get("script_sha256").asText()).isEqualTo(sa);
            assertThat(r.get("sent").asLong()).isEqualTo(4);
        });
        // A script never seen before is a new executable, even when its interpreter is well known.
        assertThat(rows).anySatisfy(r -> {
            assertThat(r.get("script").asText("")).isEqualTo(a.toString());
            assertThat(flags(r)).contains("NEW_EXE");
        });
        assertThat(mine).anySatisfy(r -> {
            assertThat(r.get("script").asText()).isEqualTo(b.toString());
            assertThat(r.get("script_sha256").asText()).isEqualTo(sb);
            assertThat(r.get("sent").asLong()).isEqualTo(8);
        });
        assertThat(mine).allSatisfy(r -> assertThat(r.get("sha256").asText()).isEqualTo(sha256(bash)));
    }
}

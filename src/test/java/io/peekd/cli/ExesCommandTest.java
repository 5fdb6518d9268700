package io.peekd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.identity.ExeState;
import io.peekd.identity.FileId;
import io.peekd.identity.HashResult;
import io.peekd.identity.PackageStatus;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExesCommandTest {
    @TempDir
    Path dir;

    record Run(int rc, String out, String err) {
    }

    Run run(String... args) throws Exception {
        Path config = dir.resolve("config.toml");
        Files.writeString(config, "[paths]\ndata_dir = \"" + dir + "\"\n");
        StringWriter out = new StringWriter(), err = new StringWriter();
        String[] argv = new String[args.length + 3];
        argv[0] = "exes";
        argv[1] = "--config";
        argv[2] = config.toString();
        System.arraycopy(args, 0, argv, 3, args.length);
        int rc = Main.run(new PrintWriter(out), new PrintWriter(err), argv);
        return new Run(rc, out.toString(), err.toString());
    }

    @Test
    void listsExecutablesTheirHashesPackagesAndVerdicts() throws Exception {
        assertThat(run().rc()).isEqualTo(1);
        assertThat(run().err()).contains("has the daemon run");

        ExeState s = new ExeState(dir.resolve("state.json"), null, e -> { });
        Instant t = Instant.parse("2026-11-22T10:00:00Z");
        String a = "a".repeat(64), b = "b".repeat(64);
        s.observe("/usr/bin/curl", new HashResult.Hashed(a, new FileId(8, 1, 2)), null, "curl", "/usr/bin/bash", false, t);
        s.observe("/usr/bin/curl", new HashResult.Hashed(b, new FileId(8, 1, 2)), new PackageStatus.Matches("dpkg", "curl"),
                "curl", null, false, t.plusSeconds(5));
        s.observe("/opt/x/run.py", new HashResult.Hashed(a, new FileId(8, 1, 3)), null, "python3", "/usr/bin/python3", true, t);
        ExeState.Verdict v = new ExeState.Verdict();
        v.verdict = "clean";
        s.putVerdict(b, v);
        s.saveIfDirty();

        Run table = run();
        assertThat(table.rc()).isZero();
        assertThat(table.out()).contains("/usr/bin/curl").contains("dpkg:curl (matches)").contains("clean")
                .contains("/opt/x/run.py (script)");
        Run changed = run("--changed", "--json");
        JsonNode j = new ObjectMapper().readTree(changed.out());
        assertThat(j.path("executables").size()).isEqualTo(1);
        assertThat(j.path("executables").path("/usr/bin/curl").path("hashes").size()).isEqualTo(2);
        assertThat(j.path("virustotal").path(b).path("verdict").asText()).isEqualTo("clean");
    }
}

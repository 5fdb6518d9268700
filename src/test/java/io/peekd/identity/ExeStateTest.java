package io.peekd.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.flow.Flag;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExeStateTest {
    @TempDir
    Path dir;
    final List<String> errors = new ArrayList<>();
    static final Instant T = Instant.parse("2026-11-22T10:00:00Z");
    static final FileId F = new FileId(8, 2, 1234);
    static final String A = "a".repeat(64), B = "b".repeat(64), C = "c".repeat(64);

    static HashResult h(String sha) {
        return new HashResult.Hashed(sha, F);
    }

    ExeState state() {
        return new ExeState(dir.resolve("state.json"), dir.resolve("exe.log"), errors::add);
    }

    @Test
    void newExeThenNewHashAndNothingForWhatIsKnown() throws Exception {
        ExeState s = state();
        assertThat(s.wouldFlag("/usr/bin/curl", h(A))).isTrue();
        assertThat(s.observe("/usr/bin/curl", h(A), null, "curl", "/usr/bin/bash", false, T)).isEqualTo(Flag.NEW_EXE.bit);
        assertThat(s.observe("/usr/bin/curl", h(A), null, "curl", "/usr/bin/bash", false, T)).isZero();
        assertThat(s.wouldFlag("/usr/bin/curl", h(B))).isTrue();
        assertThat(s.observe("/usr/bin/curl", h(B), new PackageStatus.Matches("dpkg", "curl"), "curl", "/usr/bin/zsh",
                false, T.plusSeconds(60))).isEqualTo(Flag.NEW_HASH.bit | Flag.PACKAGED.bit);
        assertThat(s.observe("/usr/bin/curl", h(C), new PackageStatus.Mismatch("dpkg", "curl"), "curl", null,
                false, T)).isEqualTo(Flag.NEW_HASH.bit | Flag.PACKAGE_MISMATCH.bit);
        // Going back to an earlier hash is not new.
        assertThat(s.observe("/usr/bin/curl", h(A), null, "curl", null, false, T)).isZero();

        var e = s.snapshot().executables.get("/usr/bin/curl");
        assertThat(e.names).containsExactly("curl");
        assertThat(e.parents).containsExactly("/usr/bin/bash", "/usr/bin/zsh");
        assertThat(e.hashes).containsOnlyKeys(A, B, C);
        assertThat(e.hashes.get(B).pkg).isEqualTo("dpkg:curl");
        assertThat(e.hashes.get(B).packageStatus).isEqualTo("matches");
        assertThat(e.firstSeen).isEqualTo("2026-11-22T10:00:00Z");

        List<String> log = Files.readAllLines(dir.resolve("exe.log"));
        assertThat(log).hasSize(3);
        assertThat(log.get(0)).isEqualTo("2026-11-22T10:00:00Z NEW_EXE /usr/bin/curl sha256=" + A
                + " name=curl parent=/usr/bin/bash");
        assertThat(log.get(1)).startsWith("2026-11-22T10:01:00Z NEW_HASH,PACKAGED /usr/bin/curl sha256=" + B);
    }

    @Test
    void aFailedHashRecordsThePathButJudgesNoContent() {
        ExeState s = state();
        HashResult failed = new HashResult.Failed("permission denied");
        assertThat(s.observe("/mnt/fuse/tool", failed, null, "tool", null, false, T)).isEqualTo(Flag.NEW_EXE.bit);
        // The first real hash has no earlier one to differ from.
        assertThat(s.observe("/mnt/fuse/tool", h(A), null, "tool", null, false, T)).isZero();
        assertThat(s.observe("/mnt/fuse/tool", failed, null, "tool", null, false, T)).isZero();
    }

    @Test
    void survivesARestartAndADamagedFileIsMovedAsideNotLost() throws Exception {
        ExeState s = state();
        s.observe("/usr/bin/curl", h(A), null, "curl", null, false, T);
        ExeState.Verdict v = new ExeState.Verdict();
        v.verdict = "pending";
        v.analysisId = "abc";
        s.putVerdict(A, v);
        s.saveIfDirty();

        ExeState again = state();
        assertThat(again.observe("/usr/bin/curl", h(A), null, "curl", null, false, T)).isZero();
        assertThat(again.pendingVerdicts()).singleElement().satisfies(en -> {
            assertThat(en.getKey()).isEqualTo(A);
            assertThat(en.getValue().analysisId).isEqualTo("abc");
        });

        Files.writeString(dir.resolve("state.json"), "{\"version\": 1, \"executables\": {\"/x\": [1, 2");
        ExeState broken = state();
        assertThat(errors).singleElement().asString().contains("cannot read").contains("moved it to");
        try (var files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).anyMatch(n -> n.startsWith("state.json.bad-"));
        }
        assertThat(broken.observe("/usr/bin/curl", h(A), null, "curl", null, false, T)).isEqualTo(Flag.NEW_EXE.bit);
    }

    @Test
    void anUnwritableStateIsReportedOnceAndWrittenLater() throws Exception {
        Path blocker = dir.resolve("sub");
        Files.writeString(blocker, "a file where the directory should be");
        ExeState s = new ExeState(blocker.resolve("state.json"), null, errors::add);
        s.observe("/usr/bin/curl", h(A), null, "curl", null, false, T);
        s.saveIfDirty();
        s.observe("/usr/bin/wget", h(B), null, "wget", null, false, T);
        s.saveIfDirty();
        assertThat(errors).singleElement().asString().contains("cannot write");
        Files.delete(blocker);
        s.saveIfDirty();
        assertThat(ExeState.read(blocker.resolve("state.json")).executables).containsOnlyKeys("/usr/bin/curl", "/usr/bin/wget");
    }
}

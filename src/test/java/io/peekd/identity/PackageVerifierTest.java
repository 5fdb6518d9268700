package io.peekd.identity;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.peekd.bpf.NativeFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against the real dpkg database of this machine: coreutils is installed on every Debian. */
class PackageVerifierTest {
    @TempDir
    Path dir;

    static PackageVerifier dpkg() {
        PackageVerifier v = PackageVerifier.detect();
        assumeTrue(v.manager() == PackageVerifier.Manager.DPKG, "not a dpkg system");
        return v;
    }

    @Test
    void anInstalledFileMatchesItsPackageEvenUnderItsMergedUsrName() throws Exception {
        PackageVerifier v = dpkg();
        // Debian's coreutils lists /bin/ls; with merged /usr the kernel calls it /usr/bin/ls.
        Path ls = Path.of("/usr/bin/ls");
        try (NativeFile f = NativeFile.open(ls)) {
            assertThat(v.verify(ls.toString(), f, "unused")).isEqualTo(new PackageStatus.Matches("dpkg", "coreutils"));
        }
        Path sum = Path.of("/usr/bin/sha256sum");
        try (NativeFile f = NativeFile.open(sum)) {
            assertThat(v.verify(sum.toString(), f, "unused")).isEqualTo(new PackageStatus.Matches("dpkg", "coreutils"));
        }
    }

    @Test
    void otherContentAtAPackagedPathIsAMismatchAndAPrivateCopyIsUnowned() throws Exception {
        PackageVerifier v = dpkg();
        Path fake = dir.resolve("ls");
        Files.writeString(fake, "#!/bin/sh\necho not ls\n");
        try (NativeFile f = NativeFile.open(fake)) {
            List<PackageStatus> got = v.verifyAll(List.of(
                    new PackageVerifier.Check("/usr/bin/ls", f, "unused"),
                    new PackageVerifier.Check(fake.toString(), f, "unused"),
                    new PackageVerifier.Check(null, f, "unused")));
            assertThat(got).containsExactly(new PackageStatus.Mismatch("dpkg", "coreutils"), PackageStatus.UNOWNED,
                    PackageStatus.UNOWNED);
            // The temporary directory holds nothing any package installed: dpkg-query need not be asked.
            assertThat(v.packagedDirs()).contains("/bin").doesNotContain(dir.toString());
        }
    }

    @Test
    void withoutAPackageManagerEverythingIsUnownedAndNothingBreaks() throws Exception {
        Path any = dir.resolve("x");
        Files.writeString(any, "x");
        try (NativeFile f = NativeFile.open(any)) {
            assertThat(PackageVerifier.none().verify("/usr/bin/ls", f, "x")).isEqualTo(PackageStatus.UNOWNED);
            // rpm named but not installed (as here): an answer, not an exception.
            if (!PackageVerifier.onPath("rpm")) {
                PackageStatus st = new PackageVerifier(PackageVerifier.Manager.RPM, null).verify("/usr/bin/ls", f, "x");
                assertThat(st).isInstanceOf(PackageStatus.Unverifiable.class);
                assertThat(PackageVerifier.detect().manager()).isNotEqualTo(PackageVerifier.Manager.RPM);
            }
        }
    }

    @Test
    void parsesDpkgQueryOutput() {
        String out = """
                diversion by dash from: /bin/sh
                diversion by dash to: /bin/sh.distrib
                coreutils: /bin/ls
                libc6:amd64, libc6-dbg:amd64: /usr/lib/x86_64-linux-gnu/libc.so.6
                """;
        var owners = PackageVerifier.dpkgOwners(out);
        assertThat(owners).containsEntry("/bin/ls", "coreutils")
                .containsEntry("/usr/lib/x86_64-linux-gnu/libc.so.6", "libc6:amd64")
                .doesNotContainKey("/bin/sh");
        assertThat(PackageVerifier.aliases("/usr/bin/ls")).containsExactly("/usr/bin/ls", "/bin/ls");
        assertThat(PackageVerifier.aliases("/sbin/ip")).containsExactly("/sbin/ip", "/usr/sbin/ip");
        assertThat(PackageVerifier.aliases("/opt/x")).containsExactly("/opt/x");
    }
}

package io.peekd.identity;

import static io.peekd.identity.TestProcs.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.bpf.NativeFile;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * ExeHashes on real processes and real files: what a process runs is hashed from
 * the inode it runs, whatever happens to the path, and each failure says why.
 */
class ExeHashesTest {
    @TempDir
    Path dir;
    final List<Process> children = new ArrayList<>();
    final List<String> errors = new CopyOnWriteArrayList<>();
    final ProcFs proc = new ProcFs();
    ExeHashes hashes;

    ExeHashes hashes(int fdCache, OptionalLong mask) {
        hashes = new ExeHashes(new ExeHashes.Settings(mask, fdCache, 2), proc, PackageVerifier.none(), errors::add);
        return hashes;
    }

    @AfterEach
    void cleanup() throws Exception {
        for (Process p : children) kill(p);
        if (hashes != null) hashes.close();
    }

    static String sha256(byte[] b) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(b));
    }

    static String sha256(Path p) throws Exception {
        return sha256(Files.readAllBytes(p));
    }

    Process sleeper(Path exe) throws Exception {
        Process p = start(List.of(exe.toString(), "30"));
        children.add(p);
        awaitExe(p.pid(), exe);
        return p;
    }

    /** The request a flow of {@code p} running {@code exe} makes, with the kernel's s_dev encoding. */
    static ExeHashes.Request request(Process p, Path exe) throws Exception {
        return new ExeHashes.Request((int) p.pid(), startTicksOfPlainProcess(p.pid()), DevNumbers.toKernel(dev(exe)),
                ino(exe), exe.toString());
    }

    static <T> T await(Supplier<T> s) throws InterruptedException {
        return TestProcs.await("a hash", () -> Optional.ofNullable(s.get()));
    }

    @Test
    void hashesWhatALiveProcessRuns() throws Exception {
        Path exe = copyBinary(dir, "hsleep", SLEEP);
        Process p = sleeper(exe);
        hashes(16, OptionalLong.empty());
        ExeHashes.Request r = request(p, exe);
        HashResult h = await(() -> hashes.resolve(r));
        assertThat(h).isInstanceOf(HashResult.Hashed.class);
        assertThat(h.text()).isEqualTo(sha256(exe));
        assertThat(((HashResult.Hashed) h).file().ino()).isEqualTo(ino(exe));
        assertThat(errors).isEmpty();
    }

    @Test
    void aFileReplacedByRenameAfterExecIsHashedAsItRan() throws Exception {
        Path exe = copyBinary(dir, "rsleep", SLEEP);
        String original = sha256(exe);
        Process p = sleeper(exe);
        ExeHashes.Request r = request(p, exe);
        Path other = dir.resolve("other");
        Files.writeString(other, "something else entirely\n");
        Files.move(other, exe, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        hashes(16, OptionalLong.empty());
        assertThat(await(() -> hashes.resolve(r)).text()).isEqualTo(original);
    }

    @Test
    void openedAtExecTimeThenTheProcessAndThePathGoStillHashes() throws Exception {
        Path exe = copyBinary(dir, "esleep", SLEEP);
        String original = sha256(exe);
        Process p = sleeper(exe);
        ExeHashes.Request r = request(p, exe);
        hashes(16, OptionalLong.empty());
        // What the ring thread does on an exec event: open through /proc while the process lives.
        hashes.onExec(r.pid(), startNs(r.startTicks()), r.kernelDev(), r.ino(), exe.toString(), List.of(exe.toString(), "30"), null, false);
        kill(p);
        Files.delete(exe);
        assertThat(await(() -> hashes.resolve(r)).text()).isEqualTo(original);
    }

    @Test
    void aGoneProcessWhosePathNowHoldsAnotherFileIsReplaced() throws Exception {
        Path exe = copyBinary(dir, "gsleep", SLEEP);
        Process p = sleeper(exe);
        ExeHashes.Request r = request(p, exe);
        kill(p);
        Path other = dir.resolve("other");
        Files.writeString(other, "new content\n");
        Files.move(other, exe, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        hashes(16, OptionalLong.empty());
        HashResult h = await(() -> hashes.resolve(r));
        assertThat(h.text()).isEqualTo("error: replaced");
        assertThat(errors).singleElement().asString().contains(exe.toString()).contains("replaced");
    }

    @Test
    void aGoneProcessWhosePathIsDeletedIsGoneAndTheErrorIsLoggedOncePerExecutable() throws Exception {
        Path exe = copyBinary(dir, "dsleep", SLEEP);
        Process p1 = sleeper(exe), p2 = sleeper(exe);
        ExeHashes.Request r1 = request(p1, exe), r2 = request(p2, exe);
        kill(p1);
        kill(p2);
        Files.delete(exe);
        hashes(16, OptionalLong.empty());
        assertThat(await(() -> hashes.resolve(r1)).text()).isEqualTo("error: gone");
        assertThat(await(() -> hashes.resolve(r2)).text()).isEqualTo("error: gone");
        assertThat(errors).hasSize(1);
    }

    @Test
    void thePidOfAnotherProcessIsNotTrusted() throws Exception {
        Path exe = copyBinary(dir, "psleep", SLEEP);
        Process p = sleeper(exe);
        ExeHashes.Request real = request(p, exe);
        // Same pid, another start time: a reused pid. The path still has the inode, so that is used.
        ExeHashes.Request reused = new ExeHashes.Request(real.pid(), real.startTicks() + 7, real.kernelDev(),
                real.ino(), exe.toString());
        hashes(16, OptionalLong.empty());
        assertThat(await(() -> hashes.resolve(reused)).text()).isEqualTo(sha256(exe));
        // And with a wrong inode neither the process nor the path may answer.
        ExeHashes.Request wrongIno = new ExeHashes.Request(real.pid(), real.startTicks(), real.kernelDev(),
                real.ino() + 1, exe.toString());
        assertThat(await(() -> hashes.resolve(wrongIno)).text()).isEqualTo("error: replaced");
    }

    @Test
    void theDeviceMustMatchUnlessTheMaskSaysOtherwise() throws Exception {
        Path exe = copyBinary(dir, "msleep", SLEEP);
        Process p = sleeper(exe);
        ExeHashes.Request real = request(p, exe);
        ExeHashes.Request otherDev = new ExeHashes.Request(real.pid(), real.startTicks(), real.kernelDev() + 1,
                real.ino(), exe.toString());
        hashes(16, OptionalLong.of(0xFFFF_FFFFL));
        assertThat(await(() -> hashes.resolve(otherDev)).text()).isEqualTo("error: replaced");
        hashes.close();
        hashes(16, OptionalLong.of(0)); // st_dev_mask = 0: inode only, as on btrfs
        assertThat(await(() -> hashes.resolve(otherDev)).text()).isEqualTo(sha256(exe));
    }

    @Test
    void anInPlaceWriteStartsANewGenerationAndOldProcessesKeepTheirHash() throws Exception {
        Path exe = copyBinary(dir, "wsleep", SLEEP);
        String first = sha256(exe);
        Process p1 = sleeper(exe);
        ExeHashes.Request r1 = request(p1, exe);
        hashes(16, OptionalLong.empty());
        assertThat(await(() -> hashes.resolve(r1)).text()).isEqualTo(first);
        kill(p1); // a running binary cannot be written (ETXTBSY)
        Files.write(exe, "appended".getBytes(StandardCharsets.UTF_8), StandardOpenOption.APPEND);
        String second = sha256(exe);
        Process p2 = sleeper(exe);
        ExeHashes.Request r2 = request(p2, exe);
        assertThat(r2.ino()).isEqualTo(r1.ino());
        assertThat(await(() -> hashes.resolve(r2)).text()).isEqualTo(second);
        assertThat(hashes.resolve(r1).text()).isEqualTo(first);
        assertThat(hashes.watching()).isTrue();
    }

    @Test
    void fanotifyReportsAWriteToAHeldFileWhateverPathItCameThrough() throws Exception {
        Path script = dir.resolve("tool.py");
        Files.writeString(script, "print('one')\n");
        Path link = dir.resolve("hardlink.py");
        Files.createLink(link, script);
        hashes(16, OptionalLong.empty());
        ExeHashes.Request r = new ExeHashes.Request(0, -1, -1, ino(script), script.toString());
        assertThat(await(() -> hashes.resolve(r)).text()).isEqualTo(sha256(script));
        long changes = (long) hashes.stats().get("changes_seen");
        Files.writeString(link, "print('two')\n", StandardOpenOption.APPEND);
        TestProcs.await("the change to be seen", () -> (long) hashes.stats().get("changes_seen") > changes
                ? Optional.of(true) : Optional.empty());
        ExeHashes.Request later = new ExeHashes.Request(0, -2, -1, ino(script), script.toString());
        assertThat(await(() -> hashes.resolve(later)).text()).isEqualTo(sha256(script));
    }

    @Test
    void heldDescriptorsStayWithinTheBoundAndEveryHashIsRight() throws Exception {
        hashes(2, OptionalLong.empty());
        List<ExeHashes.Request> reqs = new ArrayList<>();
        List<String> want = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            Path f = dir.resolve("f" + i);
            Files.writeString(f, "content " + i + "\n".repeat(i));
            reqs.add(new ExeHashes.Request(0, i, -1, ino(f), f.toString()));
            want.add(sha256(f));
        }
        for (int i = 0; i < reqs.size(); i++) {
            ExeHashes.Request r = reqs.get(i);
            assertThat(await(() -> hashes.resolve(r)).text()).isEqualTo(want.get(i));
            assertThat((int) hashes.stats().get("files_held")).isLessThanOrEqualTo(2);
        }
        assertThat(openFds()).as("descriptors of the test files still open").isLessThanOrEqualTo(2);
    }

    private long openFds() throws Exception {
        try (var s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).startsWith(dir);
                } catch (Exception e) {
                    return false;
                }
            }).count();
        }
    }

    @Test
    void aHugeFileBeingHashedDoesNotKeepSmallOnesWaiting() throws Exception {
        Path big = dir.resolve("big.bin");
        try (RandomAccessFile f = new RandomAccessFile(big.toFile(), "rw")) {
            f.setLength(1L << 30); // 1 GiB, sparse: reads are fast but still 1 GiB of sha256
        }
        Path small = dir.resolve("small");
        Files.writeString(small, "small\n");
        hashes(16, OptionalLong.empty());
        ExeHashes.Request rb = new ExeHashes.Request(0, 1, -1, ino(big), big.toString());
        ExeHashes.Request rs = new ExeHashes.Request(0, 2, -1, ino(small), small.toString());
        assertThat(hashes.resolve(rb)).as("never answers before hashing").isNull();
        assertThat(await(() -> hashes.resolve(rs)).text()).isEqualTo(sha256(small));
        HashResult hb = TestProcs.await("the big hash", () -> Optional.ofNullable(hashes.resolve(rb)));
        // sha256 of 1 GiB of zeros, computed by sha256sum once: independent of this code.
        assertThat(hb.text()).isEqualTo("49bc20df15e412a64472421e13fe86ff1c5165e18b2afccf160d4dc19fe68a14");
    }

    @Test
    void scriptsOfInterpretersAreFoundInArgvAndHashed() throws Exception {
        Path script = dir.resolve("job.sh");
        Files.writeString(script, "sleep 30\n");
        Path bash = copyBinary(dir, "bash", BASH);
        // A relative script path is resolved against the process's working directory.
        ProcessBuilder pb = new ProcessBuilder(bash.toString(), "job.sh").directory(dir.toFile());
        Process q = pb.start();
        children.add(q);
        awaitExe(q.pid(), bash);
        hashes(16, OptionalLong.empty());
        ExeHashes.Request r = request(q, bash);
        ExeHashes.Script s = TestProcs.await("the script", () -> {
            ExeHashes.Script x = hashes.resolveScript(r);
            return x.done() ? Optional.of(x) : Optional.empty();
        });
        assertThat(s.path()).isEqualTo(script.toString());
        assertThat(s.hash().text()).isEqualTo(sha256(script));
        ExeHashes.Request notInterp = new ExeHashes.Request(1, 1, -1, 1, "/usr/bin/curl");
        assertThat(hashes.resolveScript(notInterp)).isEqualTo(ExeHashes.Script.NONE);
    }

    @Test
    void aRelativeScriptOfAnInterpreterThatIsGoneIsPlacedWithTheCwdTheKernelReported() throws Exception {
        Path script = dir.resolve("quick.sh");
        Files.writeString(script, "echo quick\n");
        hashes(16, OptionalLong.empty());
        // No process has this pid: /proc has nothing, only the exec event's argv and cwd tell.
        int gone = 4_194_305;
        long startNs = 7_000_000_000L;
        hashes.noteExec(gone, startNs, 4242, "/usr/bin/bash", List.of("bash", "quick.sh"), dir.toString());
        ExeHashes.Request r = new ExeHashes.Request(gone, ProcFs.ticks(startNs), -1, 4242, "/usr/bin/bash");
        ExeHashes.Script s = TestProcs.await("the script", () -> {
            ExeHashes.Script x = hashes.resolveScript(r);
            return x.done() ? Optional.of(x) : Optional.empty();
        });
        assertThat(s.path()).isEqualTo(script.toString());
        assertThat(s.hash().text()).isEqualTo(sha256(script));

        // Inline code is no script, whatever the working directory.
        hashes.noteExec(gone, startNs + 1_000_000_000L, 4242, "/usr/bin/bash", List.of("bash", "-c", "true"), dir.toString());
        ExeHashes.Request inline = new ExeHashes.Request(gone, ProcFs.ticks(startNs + 1_000_000_000L), -1, 4242, "/usr/bin/bash");
        assertThat(hashes.resolveScript(inline)).isEqualTo(ExeHashes.Script.NONE);
    }

    @Test
    void theJvmRunningThisTestAndItsJarAreHashed() throws Exception {
        int me = (int) ProcessHandle.current().pid();
        ProcFs.Exe exe = proc.exe(me).orElseThrow();
        ExeHashes.Request r = new ExeHashes.Request(me, startTicksOfPlainProcess(me), DevNumbers.toKernel(exe.dev()),
                exe.ino(), exe.path());
        hashes(16, OptionalLong.empty());
        assertThat(await(() -> hashes.resolve(r)).text()).isEqualTo(sha256(Path.of("/proc/self/exe")));
        ExeHashes.Script s = TestProcs.await("the jar, or none", () -> {
            ExeHashes.Script x = hashes.resolveScript(r);
            return x.done() ? Optional.of(x) : Optional.empty();
        });
        if (s.path() != null) assertThat(s.hash().text()).isEqualTo(sha256(Path.of(s.path())));
    }

    @Test
    void nativeStatAgreesWithTheJdk() throws Exception {
        Path f = dir.resolve("x");
        Files.writeString(f, "12345");
        NativeFile.Stat st;
        try (NativeFile nf = NativeFile.open(f)) {
            st = nf.stat();
        }
        assertThat(st.ino()).isEqualTo(ino(f));
        assertThat(DevNumbers.makedev(st.devMajor(), st.devMinor())).isEqualTo(dev(f));
        assertThat(DevNumbers.toUser(st.kernelDev())).isEqualTo(dev(f));
        assertThat(DevNumbers.toKernel(dev(f))).isEqualTo(st.kernelDev());
        assertThat(st.size()).isEqualTo(5);
        assertThat(st.isRegular()).isTrue();
    }
}

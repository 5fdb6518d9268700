package io.peekd.identity;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import static io.peekd.identity.TestProcs.*;
import static org.assertj.core.api.Assertions.assertThat;

class ProcFsTest {

    /** Spaces, both parentheses, a newline and a non-ASCII letter: all legal in a file name. */
    static final String HOSTILE = "a b) (c\n) é";
    static final List<String> ODD_ARGS = List.of("x) (y\nz ", "--", " 30");

    @TempDir
    Path dir;
    Process child;
    final ProcFs proc = new ProcFs();

    @AfterEach
    void cleanup() throws Exception {
        kill(child);
    }

    /** Runs a copy of sleep named {@link #HOSTILE} as uid 65534 with argv {@link #ODD_ARGS}. */
    static Process startHostile(Path exe) throws Exception {
        Process p = start(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                BASH.toString(), "-c", "exec -a \"$1\" \"$0\" \"$2\" \"$3\"",
                exe.toString(), ODD_ARGS.get(0), ODD_ARGS.get(1), ODD_ARGS.get(2)));
        awaitExe(p.pid(), exe);
        return p;
    }

    @Test
    void readsAHostileLiveProcess() throws Exception {
        Path exe = copyBinary(dir, HOSTILE, SLEEP);
        child = startHostile(exe);
        int pid = (int) child.pid();

        ProcFs.Stat st = proc.stat(pid).orElseThrow();
        assertThat(st.pid()).isEqualTo(pid);
        assertThat(st.comm()).isEqualTo(HOSTILE); // 13 bytes: under the 15-byte comm limit
        assertThat(st.ppid()).isEqualTo((int) ProcessHandle.current().pid());
        assertThat(st.state()).isIn('S', 'R');
        // The JDK turns the same field into a wall-clock instant via /proc/stat btime; agree with it.
        long btime = Files.readAllLines(Path.of("/proc/stat")).stream().filter(l -> l.startsWith("btime "))
                .mapToLong(l -> Long.parseLong(l.substring(6).trim())).findFirst().orElseThrow();
        Instant jdk = child.info().startInstant().orElseThrow();
        assertThat(jdk.toEpochMilli()).isEqualTo(btime * 1000 + st.startTicks() * 10);
        assertThat(st.startedAt(st.startTicks() * ProcFs.NS_PER_TICK + 9_999_999)).isTrue();
        assertThat(st.startedAt((st.startTicks() + 1) * ProcFs.NS_PER_TICK)).isFalse();

        ProcFs.Status status = proc.status(pid).orElseThrow();
        assertThat(status.uid()).isEqualTo(65534);
        assertThat(status.tgid()).isEqualTo(pid);
        assertThat(status.ppid()).isEqualTo(st.ppid());

        ProcFs.Exe e = proc.exe(pid).orElseThrow();
        assertThat(e.path()).isEqualTo(exe.toRealPath().toString());
        assertThat(e.deleted()).isFalse();
        assertThat(e.ino()).isEqualTo(ino(exe));
        assertThat(e.dev()).isEqualTo(dev(exe));

        ProcFs.Cmdline cmd = proc.cmdline(pid).orElseThrow();
        assertThat(cmd.argv()).containsExactlyElementsOf(ODD_ARGS);
        assertThat(cmd.display()).isEqualTo("x) (y\nz  --  30");

        ProcSnapshot snap = proc.snapshot(pid, st.startTicks()).orElseThrow();
        assertThat(snap.comm()).isEqualTo(HOSTILE);
        assertThat(snap.uid()).isEqualTo(65534);
        assertThat(snap.exe()).isEqualTo(e);
        assertThat(snap.cmdline()).isEqualTo(cmd);
        assertThat(snap.cgroup()).isEqualTo(Cgroups.pathOf(proc.cgroup(pid).orElseThrow()));
        // Same pid, other start time: another process instance, so nothing.
        assertThat(proc.snapshot(pid, st.startTicks() + 1)).isEmpty();
        assertThat(proc.snapshot(pid, -1)).contains(snap);
    }

    @Test
    void flagsAndStripsADeletedExecutable() throws Exception {
        Path exe = copyBinary(dir, "doomed sleep", SLEEP);
        long ino = ino(exe);
        child = start(List.of(exe.toString(), "30"));
        awaitExe(child.pid(), exe);
        Files.delete(exe);

        ProcFs.Exe e = proc.exe((int) child.pid()).orElseThrow();
        assertThat(e.deleted()).isTrue();
        assertThat(e.path()).isEqualTo(exe.toString());
        assertThat(e.ino()).isEqualTo(ino); // the magic link still reaches the unlinked inode
    }

    @Test
    void aVanishedProcessReadsAsEmpty() throws Exception {
        child = start(List.of(SLEEP.toString(), "30"));
        awaitExe(child.pid(), SLEEP);
        int pid = (int) child.pid();
        long ticks = proc.stat(pid).orElseThrow().startTicks();
        kill(child);

        assertThat(proc.stat(pid)).isEmpty();
        assertThat(proc.status(pid)).isEmpty();
        assertThat(proc.exe(pid)).isEmpty();
        assertThat(proc.cmdline(pid)).isEmpty();
        assertThat(proc.cgroup(pid)).isEmpty();
        assertThat(proc.snapshot(pid, ticks)).isEmpty();
        assertThat(proc.stat(-5)).isEmpty();
    }

    @Test
    void kernelThreadsHaveNoExeAndAnEmptyCmdline() {
        // kthreadd is pid 2 in the initial pid namespace, which is where the daemon runs.
        ProcFs.Stat st = proc.stat(2).orElseThrow();
        assertThat(st.comm()).isEqualTo("kthreadd");
        assertThat(proc.exe(2)).isEmpty();
        assertThat(proc.cmdline(2).orElseThrow().argv()).isEmpty();
    }

    @Test
    void listsLivePids() throws Exception {
        child = start(List.of(SLEEP.toString(), "30"));
        assertThat(proc.pids()).contains(1, (int) ProcessHandle.current().pid(), (int) child.pid());
    }

    @Test
    void parsesStatFromTheLastParenthesis() {
        String fields = " S 77 1 1 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 2273280 200 18446744073709551615"
                + " 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        ProcFs.Stat st = ProcFs.parseStat("4242 (a) (b)\n) )" + fields).orElseThrow();
        assertThat(st.pid()).isEqualTo(4242);
        assertThat(st.comm()).isEqualTo("a) (b)\n) ");
        assertThat(st.state()).isEqualTo('S');
        assertThat(st.ppid()).isEqualTo(77);
        assertThat(st.startTicks()).isEqualTo(987654);
    }

    @Test
    void badStatTextIsEmptyNotAnException() {
        for (String bad : List.of("", "4242", "4242 (x", "x (y) S 1", "4242 (x) S notanumber 1",
                "4242 (x) S 1 2 3", ") 4242 (")) {
            assertThat(ProcFs.parseStat(bad)).as(bad).isEmpty();
        }
    }

    @Test
    void parsesStatusRealUidAndParent() {
        String text = "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t300\nNgid:\t0\nPid:\t300\n"
                + "PPid:\t12\nTracerPid:\t0\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n";
        assertThat(ProcFs.parseStatus(text)).contains(new ProcFs.Status(300, 12, 1000));
        assertThat(ProcFs.parseStatus("Name:\tx\n")).isEmpty();
        assertThat(ProcFs.parseStatus("PPid:\tx\nUid:\t1\n")).isEmpty();
    }

    @Test
    void splitsArgvKeepingEmptyArguments() {
        byte[] raw = "prog\0\0two words\0".getBytes(StandardCharsets.UTF_8);
        assertThat(ProcFs.parseArgv(raw)).containsExactly("prog", "", "two words");
        // setproctitle-style: one string, no terminator
        assertThat(ProcFs.parseArgv("nginx: worker process".getBytes(StandardCharsets.UTF_8)))
                .containsExactly("nginx: worker process");
        assertThat(ProcFs.parseArgv(new byte[0])).isEmpty();
        assertThat(ProcFs.parseArgv(new byte[] {'a', (byte) 0xff, 0})).containsExactly("a\uFFFD");
    }

    @Test
    void exeLinkSuffix() {
        assertThat(ProcFs.parseExeLink("/usr/bin/x (deleted)", 1, 2))
                .isEqualTo(new ProcFs.Exe("/usr/bin/x", true, 1, 2));
        assertThat(ProcFs.parseExeLink("/usr/bin/x", 1, 2).deleted()).isFalse();
    }

    @Test
    void aProcRootElsewhereServesCgroupText() throws Exception {
        Path root = dir.resolve("proc");
        Files.createDirectories(root.resolve("42"));
        Files.createDirectories(root.resolve("self"));
        Files.writeString(root.resolve("42/cgroup"),
                "1:name=systemd:/system.slice/nginx.service\n0::/system.slice/nginx.service\n");
        ProcFs fake = new ProcFs(root);
        assertThat(fake.cgroup(42).map(Cgroups::pathOf)).contains("/system.slice/nginx.service");
        assertThat(fake.cgroup(43)).isEmpty();
        assertThat(fake.pids()).containsExactly(42);
        assertThat(fake.stat(42)).isEmpty();
    }
}

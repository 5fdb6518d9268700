package io.peekd.identity;

import io.peekd.capture.FlowKey;
import io.peekd.capture.KernelEvent;
import io.peekd.flow.Identity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static io.peekd.identity.TestProcs.*;
import static org.assertj.core.api.Assertions.assertThat;

class ProcessTableTest {

    @TempDir
    Path dir;
    final List<Process> children = new ArrayList<>();
    final ProcFs proc = new ProcFs();
    final TestClock clock = new TestClock();
    final int me = (int) ProcessHandle.current().pid();

    /** A clock the test moves by hand, so eviction is tested without waiting. */
    static final class TestClock implements InstantSource {
        Instant now = Instant.parse("2030-01-01T00:00:00Z");

        @Override
        public Instant instant() {
            return now;
        }
    }

    ProcessTable table() {
        return new ProcessTable(proc, new Users(), CgroupIds.fromMounts(), clock, Duration.ofMinutes(5), 1000);
    }

    @AfterEach
    void cleanup() throws Exception {
        for (Process p : children) kill(p);
    }

    Process spawn(List<String> cmd) throws Exception {
        Process p = start(cmd);
        children.add(p);
        return p;
    }

    /** What the JVM running this test looks like, read independently of ProcFs. */
    record Me(String exe, long startNs) {
    }

    Me jvm() throws Exception {
        return new Me(Files.readSymbolicLink(Path.of("/proc/self/exe")).toString(),
                startNs(startTicksOfPlainProcess(me)));
    }

    /** An exec event as the kernel would send it, filled from a /proc snapshot taken while the process lived. */
    static KernelEvent.Exec execFrom(ProcSnapshot s, long startNs, long pstartNs, long cgroupId) {
        String args = String.join("\0", s.cmdline().argv()) + "\0";
        return new KernelEvent.Exec(startNs + 1_000, s.pid(), startNs, s.ppid(), pstartNs, s.uid(), s.uid(),
                0, s.exe().ino(), s.comm(), s.exe().path(), false, s.exe().path(), args, cgroupId, null);
    }

    @Test
    void identifiesALiveHostileProcessFromProc() throws Exception {
        Path exe = copyBinary(dir, ProcFsTest.HOSTILE, SLEEP);
        Process p = ProcFsTest.startHostile(exe);
        children.add(p);
        long startNs = startNs(proc.stat((int) p.pid()).orElseThrow().startTicks());

        Identity id = table().identify(key(p.pid(), 65534, startNs, ino(exe)));

        assertThat(id.exe()).isEqualTo(exe.toRealPath().toString());
        assertThat(id.name()).isEqualTo(ProcFsTest.HOSTILE);
        assertThat(id.cmdline()).isEqualTo(String.join(" ", ProcFsTest.ODD_ARGS));
        assertThat(id.pid()).isEqualTo(p.pid());
        assertThat(id.uid()).isEqualTo(65534);
        assertThat(id.user()).isEqualTo("nobody");
        assertThat(id.sha256()).isNull();
        assertThat(id.psha256()).isNull();
        assertThat(id.ppid()).isEqualTo(me);
        assertThat(id.pexe()).isEqualTo(jvm().exe());
        assertThat(id.pname()).isEqualTo("java");
        List<String> jvmArgs = List.of(ProcessHandle.current().info().arguments().orElseThrow());
        assertThat(id.pcmdline()).endsWith(String.join(" ", jvmArgs));
        assertThat(id.cgroup()).isEqualTo(Cgroups.pathOf(Files.readString(Path.of("/proc/" + p.pid() + "/cgroup"))));
    }

    @Test
    void identifiesAnExitedProcessFromItsExecEvent() throws Exception {
        Path exe = copyBinary(dir, ProcFsTest.HOSTILE, SLEEP);
        Process p = ProcFsTest.startHostile(exe);
        children.add(p);
        int pid = (int) p.pid();
        ProcSnapshot alive = proc.snapshot(pid, -1).orElseThrow();
        long startNs = startNs(alive.startTicks());
        kill(p);
        assertThat(proc.stat(pid)).isEmpty();

        ProcessTable t = table();
        FlowKey k = key(pid, 65534, startNs, ino(exe));
        assertThat(t.identify(k).exe()).as("nothing known yet").isNull();

        t.onExec(execFrom(alive, startNs, jvm().startNs(), 0));
        Identity id = t.identify(k);
        assertThat(id.exe()).isEqualTo(exe.toRealPath().toString());
        assertThat(id.name()).isEqualTo(ProcFsTest.HOSTILE);
        assertThat(id.cmdline()).isEqualTo(String.join(" ", ProcFsTest.ODD_ARGS));
        assertThat(id.user()).isEqualTo("nobody");
        assertThat(id.ppid()).isEqualTo(me);
        assertThat(id.pexe()).isEqualTo(jvm().exe()); // the parent still lives: /proc
        assertThat(id.pname()).isEqualTo("java");
    }

    @Test
    void keepsWhatItLearnedUntilTheExitGraceRunsOut() throws Exception {
        Process p = spawn(List.of(SLEEP.toString(), "30"));
        awaitExe(p.pid(), SLEEP);
        int pid = (int) p.pid();
        long startNs = startNs(startTicksOfPlainProcess(pid));
        FlowKey k = key(pid, 0, startNs, ino(SLEEP));
        ProcessTable t = table();
        assertThat(t.identify(k).exe()).isEqualTo(SLEEP.toString());

        kill(p);
        t.onExit(new KernelEvent.Exit(startNs + 5, pid, startNs));
        clock.now = clock.now.plus(Duration.ofMinutes(4));
        assertThat(t.evictExpired()).isZero();
        Identity late = t.identify(k);
        assertThat(late.exe()).isEqualTo(SLEEP.toString());
        assertThat(late.cmdline()).isEqualTo(SLEEP + " 30");

        clock.now = clock.now.plus(Duration.ofMinutes(2));
        assertThat(t.evictExpired()).isEqualTo(1);
        Identity gone = t.identify(k);
        assertThat(gone.exe()).isNull();
        assertThat(gone.cmdline()).isNull();
        assertThat(gone.pid()).isEqualTo(pid);
        assertThat(gone.user()).isEqualTo("root");
    }

    @Test
    void aReusedPidIsNeverConfusedWithTheEarlierProcess() throws Exception {
        Path exe = copyBinary(dir, "current", SLEEP);
        Process p = spawn(List.of(exe.toString(), "30"));
        awaitExe(p.pid(), exe);
        int pid = (int) p.pid();
        long ticks = startTicksOfPlainProcess(pid);
        ProcessTable t = table();

        // An earlier holder of the same pid, known only from its exec event, ran another binary.
        long earlier = startNs(ticks - 500);
        t.onExec(new KernelEvent.Exec(earlier + 1, pid, earlier, me, jvm().startNs(), 0, 0, 0, 99,
                "old", "/opt/old/bin/old", false, "/opt/old/bin/old", "old\0--flag\0", 0, null));
        // Same inode in both keys: only the start time tells them apart.
        Identity old = t.identify(key(pid, 0, earlier, ino(exe)));
        assertThat(old.exe()).isNull();
        assertThat(t.identify(key(pid, 0, earlier, 99)).exe()).isEqualTo("/opt/old/bin/old");
        assertThat(t.identify(key(pid, 0, earlier, 99)).cmdline()).isEqualTo("old --flag");

        Identity now = t.identify(key(pid, 0, startNs(ticks), ino(exe)));
        assertThat(now.exe()).isEqualTo(exe.toString());
        assertThat(now.name()).isEqualTo("current");

        // A later process (not started yet) with this pid: /proc must not answer for it.
        Identity later = t.identify(key(pid, 0, startNs(ticks + 700), ino(exe)));
        assertThat(later.exe()).isNull();
        assertThat(later.name()).isNull();
    }

    @Test
    void separatesExecGenerationsOfOneProcessByInode() throws Exception {
        Path first = copyBinary(dir, "first", SLEEP);
        Path second = copyBinary(dir, "second", SLEEP);
        // bash execs into the first copy, which is then replaced (same pid, same start) by the second.
        Process p = spawn(List.of(BASH.toString(), "-c", "exec \"$0\" 30", first.toString()));
        awaitExe(p.pid(), first);
        int pid = (int) p.pid();
        long startNs = startNs(startTicksOfPlainProcess(pid));
        ProcessTable t = table();
        assertThat(t.identify(key(pid, 0, startNs, ino(first))).exe()).isEqualTo(first.toString());

        // The kernel reports the second exec; /proc also shows it once it happened.
        t.onExec(new KernelEvent.Exec(startNs + 10, pid, startNs, me, jvm().startNs(), 0, 0, 0, ino(second),
                "second", second.toString(), false, second.toString(), "second\0" + "31\0", 0, null));
        assertThat(t.identify(key(pid, 0, startNs, ino(second))).exe()).isEqualTo(second.toString());
        assertThat(t.identify(key(pid, 0, startNs, ino(second))).cmdline()).isEqualTo("second 31");
        // Flows of the first generation still name the first binary.
        assertThat(t.identify(key(pid, 0, startNs, ino(first))).exe()).isEqualTo(first.toString());
        assertThat(t.identify(key(pid, 0, startNs, ino(first))).cmdline()).isEqualTo(first + " 30");
    }

    @Test
    void aForkWithoutExecRunsItsParentsBinary() throws Exception {
        Path fifo = dir.resolve("fifo");
        assertThat(new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor()).isZero();
        // The subshell is a fork of bash that never execs; bash then waits and stays bash (a last
        // command would be exec'd in place of bash, hence the exit).
        Process bash = spawn(List.of(BASH.toString(), "-c", "( read -r x < \"$0\" ) & echo $!; wait; sleep 30; exit 0",
                fifo.toString()));
        int sub = Integer.parseInt(readLine(bash).trim());
        int bashPid = (int) bash.pid();
        long bashIno = ino(BASH);
        long subNs = await("subshell start", () -> proc.stat(sub).map(ProcFs.Stat::startTicks)) * ProcFs.NS_PER_TICK;
        long bashNs = startNs(startTicksOfPlainProcess(bashPid));
        kill(ProcessHandle.of(sub).orElseThrow());
        assertThat(proc.stat(sub).filter(s -> s.startTicks() == ProcFs.ticks(subNs))).isEmpty();

        ProcessTable t = table();
        t.onNewFlow(new KernelEvent.NewFlow(subNs + 50, key(sub, 0, subNs, bashIno), sub, "bash", bashPid, bashNs, 0));
        Identity id = t.identify(key(sub, 0, subNs, bashIno));
        String bashCmd = BASH + " -c ( read -r x < \"$0\" ) & echo $!; wait; sleep 30; exit 0 " + fifo;
        assertThat(id.exe()).isEqualTo(BASH.toString());
        assertThat(id.name()).isEqualTo("bash");
        assertThat(id.cmdline()).isEqualTo(bashCmd);
        assertThat(id.ppid()).isEqualTo(bashPid);
        assertThat(id.pexe()).isEqualTo(BASH.toString());
        assertThat(id.pcmdline()).isEqualTo(bashCmd);

        // A different binary in the key is not the parent's: no guessing.
        Identity other = t.identify(key(sub, 0, subNs, ino(SLEEP)));
        assertThat(other.exe()).isNull();
        assertThat(other.name()).isEqualTo("bash"); // the comm from the new-flow event is all we have
        assertThat(other.pexe()).isEqualTo(BASH.toString());
    }

    @Test
    void aProcessInItsOwnPidAndMountNamespace() throws Exception {
        Path exe = copyBinary(dir, "ns-sleeper", SLEEP);
        Process unshare = spawn(List.of("unshare", "--fork", "--pid", "--mount-proc", exe.toString(), "30"));
        ProcessHandle inner = await("the namespaced child", () -> unshare.children().findFirst());
        awaitExe(inner.pid(), exe);
        int pid = (int) inner.pid();
        long startNs = startNs(startTicksOfPlainProcess(pid));

        ProcessTable t = table();
        Identity id = t.identify(key(pid, 0, startNs, ino(exe)));
        assertThat(id.exe()).isEqualTo(exe.toString());
        assertThat(id.name()).isEqualTo("ns-sleeper");
        assertThat(id.cmdline()).isEqualTo(exe + " 30");
        assertThat(id.pid()).isEqualTo(pid); // the host's pid, not 1
        assertThat(id.ppid()).isEqualTo(unshare.pid());
        assertThat(id.pexe()).isEqualTo(Path.of("/usr/bin/unshare").toRealPath().toString());
        assertThat(id.pname()).isEqualTo("unshare");
    }

    @Test
    void seedsEveryLiveProcessAtStartUp() throws Exception {
        Process p = spawn(List.of(SLEEP.toString(), "30"));
        awaitExe(p.pid(), SLEEP);
        int pid = (int) p.pid();
        long startNs = startNs(startTicksOfPlainProcess(pid));
        ProcessTable t = table();
        assertThat(t.seedFromProc()).isGreaterThan(2);
        assertThat(t.size()).isGreaterThan(2);

        // Seeded while alive, identified after death: the seed is what still knows it.
        kill(p);
        Identity id = t.identify(key(pid, 0, startNs, ino(SLEEP)));
        assertThat(id.exe()).isEqualTo(SLEEP.toString());
        assertThat(id.cmdline()).isEqualTo(SLEEP + " 30");
        assertThat(id.pexe()).isEqualTo(jvm().exe());
    }

    @Test
    void theTableStaysWithinItsBound() {
        ProcessTable t = new ProcessTable(proc, new Users(), null, clock, Duration.ofMinutes(5), 50);
        for (int i = 0; i < 500; i++) {
            long startNs = startNs(1_000_000L + i);
            t.onExec(new KernelEvent.Exec(startNs, 4_000_000 + i, startNs, 1, 0, 0, 0, 0, 7, "x", "/bin/x", false,
                    "/bin/x", "x\0", 0, null));
        }
        assertThat(t.size()).isEqualTo(50);
        // The newest are kept, the oldest gone.
        assertThat(t.identify(key(4_000_499, 0, startNs(1_000_499L), 7)).exe()).isEqualTo("/bin/x");
        assertThat(t.identify(key(4_000_000, 0, startNs(1_000_000L), 7)).exe()).isNull();
    }

    @Test
    void placesAProcessInItsContainerEvenAfterItDied() throws Exception {
        CgroupIds ids = CgroupIds.fromMounts();
        Path mount = ids.mount().orElseThrow();
        String id64 = "feedc0de".repeat(8);
        Path parent = mount.resolve("peekd-test-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        Path cg = parent.resolve("docker-" + id64 + ".scope");
        Files.createDirectories(cg);
        try {
            Process p = spawn(List.of(SLEEP.toString(), "30"));
            awaitExe(p.pid(), SLEEP);
            Files.writeString(cg.resolve("cgroup.procs"), Long.toString(p.pid()));
            int pid = (int) p.pid();
            long startNs = startNs(startTicksOfPlainProcess(pid));
            String path = "/" + mount.relativize(cg);

            Identity live = table().identify(key(pid, 0, startNs, ino(SLEEP)));
            assertThat(live.cgroup()).isEqualTo(path);
            assertThat(live.container()).isEqualTo(id64);

            ProcSnapshot s = proc.snapshot(pid, -1).orElseThrow();
            kill(p);
            ProcessTable t = table();
            t.onExec(execFrom(s, startNs, jvm().startNs(), ino(cg)));
            Identity dead = t.identify(key(pid, 0, startNs, ino(SLEEP)));
            assertThat(dead.exe()).isEqualTo(SLEEP.toString());
            assertThat(dead.cgroup()).isEqualTo(path);
            assertThat(dead.container()).isEqualTo(id64);
        } finally {
            for (Process c : children) kill(c);
            await("cgroup removal", () -> {
                try {
                    Files.deleteIfExists(cg);
                    Files.deleteIfExists(parent);
                    return Optional.of(true);
                } catch (java.io.IOException e) {
                    return Optional.empty(); // EBUSY while the killed task is still leaving
                }
            });
        }
    }

    @Test
    void eventsAndLookupsFromTwoThreads() throws Exception {
        Process p = spawn(List.of(SLEEP.toString(), "30"));
        awaitExe(p.pid(), SLEEP);
        int pid = (int) p.pid();
        long startNs = startNs(startTicksOfPlainProcess(pid));
        ProcessTable t = new ProcessTable(proc, new Users(), null, clock, Duration.ZERO, 200);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> ring = pool.submit(() -> {
                for (int i = 0; i < 2000; i++) {
                    long s = startNs(2_000_000L + i);
                    t.onExec(new KernelEvent.Exec(s, 5_000_000 + i, s, 1, 0, 0, 0, 0, 8, "y", "/bin/y", false,
                            "/bin/y", "y\0", 0, null));
                    t.onExit(new KernelEvent.Exit(s + 1, 5_000_000 + i, s));
                }
            });
            Future<List<Identity>> drain = pool.submit(() -> {
                List<Identity> seen = new ArrayList<>();
                for (int i = 0; i < 300; i++) seen.add(t.identify(key(pid, 0, startNs, ino(SLEEP))));
                return seen;
            });
            ring.get(60, TimeUnit.SECONDS);
            assertThat(drain.get(60, TimeUnit.SECONDS)).allSatisfy(id -> assertThat(id.exe()).isEqualTo(SLEEP.toString()));
        } finally {
            pool.shutdownNow();
        }
        // Zero grace: every exited record is gone; the live process and its parent (this JVM) stay.
        assertThat(t.size()).isEqualTo(2);
    }

    @Test
    void execPathFallsBackToTheFilenameWhenTruncated() {
        var e = new KernelEvent.Exec(1, 2, 3, 4, 5, 0, 0, 0, 9, "c", "…/deep/bin/c", true, "/very/deep/bin/c", "", 0, null);
        assertThat(ProcessTable.execPath(e)).isEqualTo("/very/deep/bin/c");
        var rel = new KernelEvent.Exec(1, 2, 3, 4, 5, 0, 0, 0, 9, "c", "/usr/bin/c", false, "./c", "", 0, null);
        assertThat(ProcessTable.execPath(rel)).isEqualTo("/usr/bin/c");
        var deepRel = new KernelEvent.Exec(1, 2, 3, 4, 5, 0, 0, 0, 9, "c", "…/deep/bin/c", true, "./bin/c", "", 0,
                "/very/deep");
        assertThat(ProcessTable.execPath(deepRel)).isEqualTo("/very/deep/bin/c");
        assertThat(ProcessTable.argv("a\0\0b\0")).containsExactly("a", "", "b");
        assertThat(ProcessTable.argv("a\0b\0\0\0\0")).containsExactly("a", "b");
        assertThat(ProcessTable.argv("already joined")).containsExactly("already joined");
        assertThat(ProcessTable.argv("")).isNull();
    }
}

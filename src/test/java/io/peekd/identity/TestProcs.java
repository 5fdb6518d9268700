package io.peekd.identity;

import io.peekd.capture.FlowKey;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** Real child processes for tests, always bounded in time and always killed. */
final class TestProcs {

    static final Path SLEEP = Path.of("/usr/bin/sleep");
    static final Path BASH = Path.of("/usr/bin/bash");

    private TestProcs() {
    }

    /** A directory and binary copy that uid 65534 can reach and run. */
    static Path copyBinary(Path dir, String name, Path src) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path dst = dir.resolve(name);
        Files.copy(src, dst, StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(dst, PosixFilePermissions.fromString("rwxr-xr-x"));
        return dst;
    }

    static long ino(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:ino")).longValue();
    }

    static long dev(Path p) throws IOException {
        return ((Number) Files.getAttribute(p, "unix:dev")).longValue();
    }

    /** Polls (at most ~10 s, 20 ms apart) until the supplier yields a value. */
    static <T> T await(String what, Supplier<Optional<T>> probe) throws InterruptedException {
        for (int i = 0; i < 500; i++) {
            Optional<T> v = probe.get();
            if (v.isPresent()) return v.get();
            Thread.sleep(20);
        }
        throw new AssertionError("timed out waiting for " + what);
    }

    /** Waits until the process has exec'd {@code exe} (its /proc/pid/exe names that inode). */
    static void awaitExe(long pid, Path exe) throws Exception {
        long want = ino(exe);
        await("pid " + pid + " to exec " + exe, () -> {
            try {
                long have = ((Number) Files.getAttribute(Path.of("/proc/" + pid + "/exe"), "unix:ino")).longValue();
                return have == want ? Optional.of(true) : Optional.empty();
            } catch (IOException e) {
                return Optional.empty();
            }
        });
    }

    /** Start time in ticks, straight from /proc/pid/stat field 22 (comm here has no ')'). */
    static long startTicksOfPlainProcess(long pid) throws IOException {
        String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[19]);
    }

    /** A plausible kernel start time inside the /proc tick, as the BPF side would report it. */
    static long startNs(long ticks) {
        return ticks * ProcFs.NS_PER_TICK + 4_321_000;
    }

    static FlowKey key(long pid, int uid, long startNs, long exeIno) {
        byte[] lo = new byte[16];
        lo[0] = 127;
        lo[3] = 1;
        return new FlowKey((int) pid, uid, startNs, exeIno, 0, FlowKey.AF_INET, 6, 1, 40000, 80, lo, lo);
    }

    static Process start(List<String> cmd) throws IOException {
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE).start();
    }

    static void kill(Process p) throws InterruptedException {
        if (p == null) return;
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        p.waitFor(10, TimeUnit.SECONDS);
    }

    static void kill(ProcessHandle h) throws InterruptedException {
        h.destroyForcibly();
        await("pid " + h.pid() + " to go", () -> h.isAlive() ? Optional.empty() : Optional.of(true));
    }

    /** One line of the child's output, waiting boundedly (never blocks on a silent child). */
    static String readLine(Process p) throws InterruptedException {
        StringBuilder b = new StringBuilder();
        return await("a line from pid " + p.pid(), () -> {
            try {
                while (p.getInputStream().available() > 0) {
                    int c = p.getInputStream().read();
                    if (c < 0 || c == '\n') return Optional.of(b.toString());
                    b.append((char) c);
                }
                return Optional.empty();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}

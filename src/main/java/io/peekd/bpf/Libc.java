package io.peekd.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;

/** The few libc calls the JDK does not offer. */
public final class Libc {
    private static final int O_RDONLY = 0, O_DIRECTORY = 0200000, O_CLOEXEC = 02000000;
    private static final MethodHandle OPEN = Native.libc("open",
            FunctionDescriptor.of(Native.INT, Native.PTR, Native.INT), Native.CAPTURE_ERRNO);
    private static final MethodHandle CLOSE = Native.libc("close", FunctionDescriptor.of(Native.INT, Native.INT));
    private static final MethodHandle GETEUID = Native.libc("geteuid", FunctionDescriptor.of(Native.INT));
    private static final MethodHandle FANOTIFY_INIT = Native.libc("fanotify_init",
            FunctionDescriptor.of(Native.INT, Native.INT, Native.INT), Native.CAPTURE_ERRNO);
    private static final MethodHandle READLINK = Native.libc("readlink",
            FunctionDescriptor.of(Native.LONG, Native.PTR, Native.PTR, Native.LONG), Native.CAPTURE_ERRNO);
    private static final int PATH_MAX = 4096;
    private static final MethodHandle KILL = Native.libc("kill",
            FunctionDescriptor.of(Native.INT, Native.INT, Native.INT), Native.CAPTURE_ERRNO);
    public static final int SIGHUP = 1;

    private Libc() {
    }

    /** An open file descriptor, closed with the resource. */
    public record Fd(int fd) implements AutoCloseable {
        @Override
        public void close() {
            BpfObject.callInt(() -> (int) CLOSE.invokeExact(fd));
        }
    }

    /**
     * readlink(2), with the target decoded as UTF-8 (invalid bytes become U+FFFD). Java decodes
     * link targets with {@code sun.jnu.encoding}, which is ASCII when a daemon starts without a
     * locale (as under a bare systemd unit), and then every non-ASCII byte of an executable's
     * path would turn into '?'.
     */
    public static String readlink(Path link) throws java.io.IOException {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            MemorySegment name = a.allocateFrom(link.toString(), java.nio.charset.StandardCharsets.UTF_8);
            MemorySegment buf = a.allocate(PATH_MAX);
            long n = (long) READLINK.invokeExact(state, name, buf, (long) PATH_MAX);
            if (n < 0) throw new java.io.IOException("readlink " + link + ": " + Errno.describe(Native.errno(state)));
            return new String(buf.asSlice(0, n).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE),
                    java.nio.charset.StandardCharsets.UTF_8);
        } catch (java.io.IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new java.io.IOException("readlink " + link + ": " + t, t);
        }
    }

    public static Fd openDirectory(Path dir) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            MemorySegment path = a.allocateFrom(dir.toString());
            int fd = (int) OPEN.invokeExact(state, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (fd < 0) throw BpfException.errno("cannot open " + dir, Native.errno(state));
            return new Fd(fd);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * Sends {@code signal} to process {@code pid} (kill(2)); the JDK can only send SIGTERM and SIGKILL.
     *
     * @throws BpfException with the errno's meaning (ESRCH: no such process, EPERM: not allowed)
     */
    public static void kill(long pid, int signal) {
        if (pid <= 0 || pid > Integer.MAX_VALUE) throw new IllegalArgumentException("not a process id: " + pid);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            int rc = (int) KILL.invokeExact(state, (int) pid, signal);
            if (rc < 0) throw BpfException.errno("cannot signal process " + pid, Native.errno(state));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public static int geteuid() {
        return BpfObject.callInt(() -> (int) GETEUID.invokeExact());
    }

    /**
     * Whether this process may use fanotify the way the hash cache does
     * (a notification group for FAN_MODIFY/FAN_CLOSE_WRITE). Returns null when
     * it can, else the reason; the probe's descriptor is closed at once.
     */
    public static String fanotifyProblem() {
        final int FAN_CLASS_NOTIF = 0, FAN_CLOEXEC = 1;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            int fd = (int) FANOTIFY_INIT.invokeExact(state, FAN_CLASS_NOTIF | FAN_CLOEXEC, O_RDONLY | O_CLOEXEC);
            if (fd < 0) return Errno.describe(Native.errno(state));
            new Fd(fd).close();
            return null;
        } catch (Throwable t) {
            return t.getMessage();
        }
    }
}

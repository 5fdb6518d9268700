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

    private Libc() {
    }

    /** An open file descriptor, closed with the resource. */
    public record Fd(int fd) implements AutoCloseable {
        @Override
        public void close() {
            BpfObject.callInt(() -> (int) CLOSE.invokeExact(fd));
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

package io.peekd.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * An attached BPF map iterator. The link belongs to its {@link BpfObject};
 * this only creates a fresh iterator from it and reads it to the end, which is
 * what makes the kernel run the program over every element.
 */
public final class MapIterator {
    private static final MethodHandle READ = Native.libc("read",
            FunctionDescriptor.of(Native.LONG, Native.INT, Native.PTR, Native.LONG), Native.CAPTURE_ERRNO);
    private static final int EINTR = 4, EAGAIN = 11;

    private final String program;
    private final int linkFd;

    MapIterator(String program, int linkFd) {
        this.program = program;
        this.linkFd = linkFd;
    }

    /** Walks the map once; returns the bytes the program wrote (peekd's write none). */
    public long run() {
        int fd = BpfObject.callInt(() -> (int) Libbpf.ITER_CREATE.invokeExact(linkFd));
        if (fd < 0) throw BpfException.errno("cannot start iterator " + program, fd);
        try (Libc.Fd ignored = new Libc.Fd(fd); Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096);
            MemorySegment state = Native.newCallState(a);
            long total = 0;
            while (true) {
                long n = (long) READ.invokeExact(state, fd, buf, buf.byteSize());
                if (n == 0) return total;
                if (n < 0) {
                    int err = Native.errno(state);
                    // The kernel restarts the walk where it stopped after a signal.
                    if (err == EINTR || err == EAGAIN) continue;
                    throw BpfException.errno("iterator " + program + " failed", -err);
                }
                total += n;
            }
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}

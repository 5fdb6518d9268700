package io.peekd.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * An mmap of a BPF array map's values, shared with the kernel programs. The
 * segment belongs to its own arena, whose close unmaps it: a read after close
 * fails with IllegalStateException instead of touching unmapped memory.
 */
public final class MappedMap implements AutoCloseable {
    private static final MethodHandle MMAP = Native.libc("mmap",
            FunctionDescriptor.of(Native.PTR, Native.PTR, Native.LONG, Native.INT, Native.INT, Native.INT, Native.LONG),
            Native.CAPTURE_ERRNO);
    private static final MethodHandle MUNMAP = Native.libc("munmap", FunctionDescriptor.of(Native.INT, Native.PTR, Native.LONG));
    private static final int PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1;
    private static final long PAGE = 4096;

    private final Arena arena;
    private final MemorySegment segment;

    private MappedMap(Arena arena, MemorySegment segment) {
        this.arena = arena;
        this.segment = segment;
    }

    static MappedMap of(BpfMap map, long bytes) {
        long len = (bytes + PAGE - 1) / PAGE * PAGE;
        MemorySegment addr;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            addr = (MemorySegment) MMAP.invokeExact(state, MemorySegment.NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED,
                    map.fd(), 0L);
            if (addr.address() == -1L) throw BpfException.errno("cannot mmap map " + map.name(), Native.errno(state));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
        Arena arena = Arena.ofShared();
        MemorySegment seg = addr.reinterpret(len, arena, s -> unmap(s, len));
        return new MappedMap(arena, seg.asSlice(0, bytes));
    }

    private static void unmap(MemorySegment s, long len) {
        try {
            int rc = (int) MUNMAP.invokeExact(MemorySegment.ofAddress(s.address()), len);
            if (rc != 0) System.getLogger("peekd.bpf").log(System.Logger.Level.WARNING, "munmap failed");
        } catch (Throwable t) {
            System.getLogger("peekd.bpf").log(System.Logger.Level.WARNING, "munmap failed: " + t);
        }
    }

    /** The mapped values, valid until {@link #close()}. */
    public MemorySegment segment() {
        return segment;
    }

    @Override
    public void close() {
        if (arena.scope().isAlive()) arena.close();
    }
}

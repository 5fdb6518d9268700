package io.peekd.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/** Symbol lookup and downcall plumbing shared by the libbpf and libc bindings. */
final class Native {
    static final Linker LINKER = Linker.nativeLinker();
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    static final ValueLayout PTR = ValueLayout.ADDRESS;

    private static final MemoryLayout CALL_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CALL_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    private Native() {
    }

    /** libbpf is looked up lazily so that commands that never touch the kernel start without it. */
    static final class Libs {
        static final SymbolLookup LIBBPF = load("libbpf.so.1");
        static final SymbolLookup LIBC = LINKER.defaultLookup();

        private static SymbolLookup load(String name) {
            try {
                return SymbolLookup.libraryLookup(name, Arena.global());
            } catch (IllegalArgumentException e) {
                throw new BpfException("cannot load " + name + ": install the libbpf1 package (apt-get install libbpf1)", e);
            }
        }
    }

    static MethodHandle bpf(String name, FunctionDescriptor fd, Linker.Option... options) {
        var sym = Libs.LIBBPF.find(name)
                .orElseThrow(() -> new BpfException("libbpf lacks " + name + ": libbpf >= 1.0 is required"));
        return LINKER.downcallHandle(sym, fd, options);
    }

    static MethodHandle libc(String name, FunctionDescriptor fd, Linker.Option... options) {
        var sym = Libs.LIBC.find(name).orElseThrow(() -> new BpfException("libc lacks " + name));
        return LINKER.downcallHandle(sym, fd, options);
    }

    static MemorySegment newCallState(Arena arena) {
        return arena.allocate(CALL_STATE);
    }

    static int errno(MemorySegment callState) {
        return (int) ERRNO.get(callState, 0L);
    }

    /** Turns a C string pointer of unknown length into a Java string. */
    static String cString(MemorySegment p) {
        if (p.equals(MemorySegment.NULL)) return null;
        return p.reinterpret(Long.MAX_VALUE).getString(0);
    }

    static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new BpfException("native call failed: " + t, t);
    }
}

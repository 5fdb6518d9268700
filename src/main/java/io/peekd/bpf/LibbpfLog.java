package io.peekd.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

/**
 * Collects what libbpf prints (including the verifier log of a failed load) so
 * that a load error can show it. libbpf hands us a printf format and a va_list,
 * which only vsnprintf can expand; that works on x86-64 SysV where va_list is a
 * pointer-sized array, so on other architectures the log is left to stderr.
 */
final class LibbpfLog {
    private static final int KEEP = 400;
    private static final Deque<String> LINES = new ArrayDeque<>();
    private static final StringBuilder PARTIAL = new StringBuilder();
    private static MethodHandle vsnprintf;
    private static boolean installed;

    private LibbpfLog() {
    }

    static synchronized void install() {
        if (installed || !"amd64".equals(System.getProperty("os.arch"))) return;
        try {
            vsnprintf = Native.libc("vsnprintf",
                    FunctionDescriptor.of(Native.INT, Native.PTR, Native.LONG, Native.PTR, Native.PTR));
            MethodHandle target = MethodHandles.lookup().findStatic(LibbpfLog.class, "print",
                    MethodType.methodType(int.class, int.class, MemorySegment.class, MemorySegment.class));
            MemorySegment stub = Native.LINKER.upcallStub(target,
                    FunctionDescriptor.of(Native.INT, Native.INT, Native.PTR, Native.PTR), Arena.global());
            MemorySegment unused = (MemorySegment) Libbpf.SET_PRINT.invokeExact(stub);
            installed = true;
        } catch (Throwable t) {
            // Without the hook libbpf still prints to stderr; nothing is lost but the capture.
        }
    }

    /** Upcall: must never throw. */
    private static int print(int level, MemorySegment fmt, MemorySegment args) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(4096);
            int n = (int) vsnprintf.invokeExact(buf, 4096L, fmt, args);
            if (n > 0) append(buf.getString(0));
            return n;
        } catch (Throwable t) {
            return 0;
        }
    }

    private static synchronized void append(String s) {
        PARTIAL.append(s);
        int nl;
        while ((nl = PARTIAL.indexOf("\n")) >= 0) {
            LINES.addLast(PARTIAL.substring(0, nl));
            PARTIAL.delete(0, nl + 1);
            while (LINES.size() > KEEP) LINES.removeFirst();
        }
    }

    /** Everything captured since the last call, oldest first. */
    static synchronized List<String> drain() {
        List<String> out = new ArrayList<>(LINES);
        LINES.clear();
        if (!PARTIAL.isEmpty()) {
            out.add(PARTIAL.toString());
            PARTIAL.setLength(0);
        }
        return out;
    }
}

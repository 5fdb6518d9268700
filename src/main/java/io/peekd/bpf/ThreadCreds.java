package io.peekd.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * Runs a short piece of code with another user's effective uid and gid, on
 * the calling thread only.
 *
 * <p>Why: a desktop user's session bus lets in only that user (the bus reads
 * the peer's credentials from the socket at connect time), and the daemon is
 * root. glibc's setresuid() would switch every thread of the JVM; the raw
 * system call switches only the calling thread, which is what Linux keeps
 * credentials per. Real and saved ids stay 0, so switching back restores
 * root and its capabilities.
 *
 * <p>Only for platform threads (a virtual thread could move to another carrier
 * in the middle), and only around calls that create no threads: a thread
 * inherits the credentials of the thread that starts it.
 */
public final class ThreadCreds {
    private static final long SYS_SETRESUID, SYS_SETRESGID;

    static {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        switch (arch) {
            case "amd64", "x86_64" -> {
                SYS_SETRESUID = 117;
                SYS_SETRESGID = 119;
            }
            case "aarch64", "arm64", "riscv64", "loongarch64" -> {
                SYS_SETRESUID = 147;
                SYS_SETRESGID = 149;
            }
            default -> {
                SYS_SETRESUID = -1;
                SYS_SETRESGID = -1;
            }
        }
    }

    private static final MethodHandle SYSCALL = Native.libc("syscall",
            FunctionDescriptor.of(Native.LONG, Native.LONG, Native.LONG, Native.LONG, Native.LONG),
            Linker.Option.firstVariadicArg(1), Native.CAPTURE_ERRNO);

    private ThreadCreds() {
    }

    /**
     * Calls {@code body} as {@code uid}/{@code gid} (effective ids of this thread).
     * When the daemon already runs as that user, nothing is switched.
     *
     * @throws SysError when the switch is refused (not root, or no CAP_SETUID/CAP_SETGID)
     */
    public static <T> T callAs(int uid, int gid, Callable<T> body) throws Exception {
        if (Libc.geteuid() == uid) return body.call();
        if (Thread.currentThread().isVirtual())
            throw new IllegalStateException("ThreadCreds needs a platform thread");
        if (SYS_SETRESUID < 0) throw new SysError("setresuid on " + System.getProperty("os.arch"), SysError.ENOSYS);
        set(SYS_SETRESGID, gid);
        try {
            set(SYS_SETRESUID, uid);
        } catch (SysError e) {
            set(SYS_SETRESGID, 0);
            throw e;
        }
        try {
            return body.call();
        } finally {
            try {
                set(SYS_SETRESUID, 0);
                set(SYS_SETRESGID, 0);
            } catch (SysError e) {
                // Cannot happen while the saved uid is 0; if it did, this thread must not go on as someone else.
                throw new IllegalStateException("cannot switch this thread back to root: " + e.getMessage(), e);
            }
        }
    }

    private static void set(long sysno, int id) throws SysError {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            long rc = (long) SYSCALL.invokeExact(state, sysno, -1L, Integer.toUnsignedLong(id), -1L);
            if (rc != 0) throw new SysError(sysno == SYS_SETRESUID ? "setresuid" : "setresgid", Native.errno(state));
        } catch (SysError e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}

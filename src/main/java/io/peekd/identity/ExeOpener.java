package io.peekd.identity;

import io.peekd.bpf.NativeFile;
import io.peekd.bpf.SysError;
import java.nio.file.Path;
import java.util.OptionalLong;

/**
 * Opens the file a process instance runs, and refuses anything else: the
 * live process's {@code /proc/<pid>/exe} if the pid still is that process
 * (same start time) running that exec generation (same inode and device),
 * else the path if it still holds the same inode. Each refusal has a reason
 * a user can act on.
 */
final class ExeOpener {
    private static final long BTRFS_MAGIC = 0x9123683EL, OVERLAYFS_MAGIC = 0x794C7630L;

    private final ProcFs proc;
    private final OptionalLong stDevMask;

    ExeOpener(ProcFs proc, OptionalLong stDevMask) {
        this.proc = proc;
        this.stDevMask = stDevMask;
    }

    /** An open file and what statx said about it when it was opened. */
    record Opened(NativeFile file, NativeFile.Stat stat) {
    }

    /** A reason the file cannot be had; the message is what the row shows after "error: ". */
    static final class Failure extends Exception {
        Failure(String reason) {
            super(reason, null, false, false);
        }
    }

    /** Whether the pid still belongs to the process instance the request is about. */
    boolean alive(ExeHashes.Request r) {
        if (r.startTicks() < 0) return proc.stat(r.pid()).isPresent();
        return proc.stat(r.pid()).map(st -> st.startTicks() == r.startTicks()).orElse(false);
    }

    Opened open(ExeHashes.Request r) throws Failure {
        boolean denied = false;
        if (r.pid() > 0 && alive(r)) {
            NativeFile f = null;
            try {
                f = NativeFile.open(proc.root().resolve(r.pid() + "/exe"));
                NativeFile.Stat st = f.stat();
                // Checked again after the open: the pid may have been reused in between.
                if (alive(r) && matches(r, st, f)) {
                    Opened o = new Opened(f, st);
                    f = null;
                    return o;
                }
            } catch (SysError e) {
                denied = e.errno() == SysError.EACCES || e.errno() == SysError.EPERM;
            } finally {
                if (f != null) f.close();
            }
        }
        if (r.path() == null || !r.path().startsWith("/")) throw new Failure(denied ? "permission denied" : "gone");
        NativeFile f = null;
        try {
            f = NativeFile.open(Path.of(r.path()));
            NativeFile.Stat st = f.stat();
            if (!matches(r, st, f)) throw new Failure("replaced");
            Opened o = new Opened(f, st);
            f = null;
            return o;
        } catch (SysError e) {
            if (e.errno() == SysError.ENOENT) throw new Failure(denied ? "permission denied" : "gone");
            throw new Failure(reason(e));
        } finally {
            if (f != null) f.close();
        }
    }

    /** Same inode, and the same device under the configured or automatic mask. */
    boolean matches(ExeHashes.Request r, NativeFile.Stat st, NativeFile f) throws SysError {
        if (r.ino() > 0 && st.ino() != r.ino()) return false;
        if (r.kernelDev() < 0) return true;
        long have = st.kernelDev(), want = r.kernelDev();
        if (stDevMask.isPresent()) {
            long mask = stDevMask.getAsLong();
            return (have & mask) == (want & mask);
        }
        if (have == want) return true;
        // btrfs subvolumes and overlayfs show stat() a device other than the superblock's s_dev.
        long fs = f.fsType();
        return fs == BTRFS_MAGIC || fs == OVERLAYFS_MAGIC;
    }

    /** A failed system call as the reason a row shows. */
    static String reason(Exception e) {
        if (e instanceof SysError se) {
            return switch (se.errno()) {
                case SysError.EACCES, SysError.EPERM -> "permission denied";
                case SysError.ENOENT, SysError.ESRCH -> "gone";
                default -> "read failed: " + SysError.name(se.errno());
            };
        }
        return "read failed: " + e.getMessage();
    }
}

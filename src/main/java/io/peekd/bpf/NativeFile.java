package io.peekd.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * A file opened read-only by the kernel's own path walk, so that a magic link
 * such as {@code /proc/<pid>/exe} opens the very inode a process runs, even
 * when its path was unlinked or replaced. The descriptor stays valid for as
 * long as this object is open, whatever happens to the path.
 */
public final class NativeFile implements AutoCloseable {
    private static final int O_RDONLY = 0, O_CLOEXEC = 02000000, O_NOCTTY = 0400;
    private static final int AT_FDCWD = -100, AT_EMPTY_PATH = 0x1000, AT_STATX_SYNC_AS_STAT = 0;
    private static final int STATX_BASIC_STATS = 0x7ff;
    private static final long STATX_SIZE = 256, STATFS_SIZE = 256;

    private static final MethodHandle OPEN = Native.libc("open",
            FunctionDescriptor.of(Native.INT, Native.PTR, Native.INT), Native.CAPTURE_ERRNO);
    private static final MethodHandle CLOSE = Native.libc("close", FunctionDescriptor.of(Native.INT, Native.INT));
    private static final MethodHandle PREAD = Native.libc("pread",
            FunctionDescriptor.of(Native.LONG, Native.INT, Native.PTR, Native.LONG, Native.LONG), Native.CAPTURE_ERRNO);
    private static final MethodHandle STATX = Native.libc("statx",
            FunctionDescriptor.of(Native.INT, Native.INT, Native.PTR, Native.INT, Native.INT, Native.PTR),
            Native.CAPTURE_ERRNO);
    private static final MethodHandle FSTATFS = Native.libc("fstatfs",
            FunctionDescriptor.of(Native.INT, Native.INT, Native.PTR), Native.CAPTURE_ERRNO);

    /**
     * What statx says about a file.
     *
     * @param devMajor major number of the device holding the file
     * @param ctimeNs  inode change time in ns: any write or metadata change moves it
     */
    public record Stat(long ino, int devMajor, int devMinor, long size, int mode, int uid,
                       long mtimeNs, long ctimeNs) {
        /** The device number as the kernel keeps it in {@code s_dev}: {@code MAJOR << 20 | MINOR}. */
        public long kernelDev() {
            return ((long) devMajor << 20) | (devMinor & 0xFFFFF);
        }

        public boolean isRegular() {
            return (mode & 0170000) == 0100000;
        }
    }

    private final int fd;
    private final String what;
    private boolean closed;

    private NativeFile(int fd, String what) {
        this.fd = fd;
        this.what = what;
    }

    /** Opens a file read-only (no controlling tty, close-on-exec). */
    public static NativeFile open(Path path) throws SysError {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            MemorySegment p = a.allocateFrom(path.toString(), StandardCharsets.UTF_8);
            int fd = (int) OPEN.invokeExact(state, p, O_RDONLY | O_CLOEXEC | O_NOCTTY);
            if (fd < 0) throw new SysError("open " + path, Native.errno(state));
            return new NativeFile(fd, path.toString());
        } catch (SysError e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Takes ownership of a descriptor the kernel handed us (fanotify events). */
    static NativeFile adopt(int fd, String what) {
        return new NativeFile(fd, what);
    }

    /** statx of a path, following links (so {@code /proc/<pid>/exe} gives the executable). */
    public static Stat stat(Path path) throws SysError {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            MemorySegment buf = a.allocate(STATX_SIZE, 8);
            MemorySegment p = a.allocateFrom(path.toString(), StandardCharsets.UTF_8);
            int rc = (int) STATX.invokeExact(state, AT_FDCWD, p, AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, buf);
            if (rc != 0) throw new SysError("statx " + path, Native.errno(state));
            return decode(buf);
        } catch (SysError e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** statx of the open file itself: the inode we hold, not whatever the path names now. */
    public Stat stat() throws SysError {
        ensureOpen();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            MemorySegment buf = a.allocate(STATX_SIZE, 8);
            MemorySegment empty = a.allocateFrom("");
            int rc = (int) STATX.invokeExact(state, fd, empty, AT_EMPTY_PATH, STATX_BASIC_STATS, buf);
            if (rc != 0) throw new SysError("statx " + what, Native.errno(state));
            return decode(buf);
        } catch (SysError e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The file system's magic number ({@code statfs.f_type}), e.g. 0x9123683E for btrfs. */
    public long fsType() throws SysError {
        ensureOpen();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            MemorySegment buf = a.allocate(STATFS_SIZE, 8);
            int rc = (int) FSTATFS.invokeExact(state, fd, buf);
            if (rc != 0) throw new SysError("fstatfs " + what, Native.errno(state));
            return buf.get(ValueLayout.JAVA_LONG, 0) & 0xFFFF_FFFFL;
        } catch (SysError e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * Reads up to {@code buf.byteSize()} bytes at {@code offset} into native memory;
     * returns the count, 0 at end of file. EINTR is retried.
     */
    public long pread(MemorySegment buf, long offset) throws SysError {
        ensureOpen();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            while (true) {
                long n = (long) PREAD.invokeExact(state, fd, buf, buf.byteSize(), offset);
                if (n >= 0) return n;
                int err = Native.errno(state);
                if (err != SysError.EINTR) throw new SysError("read " + what, err);
            }
        } catch (SysError e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The raw descriptor, for calls that take one (fanotify marks). Valid until {@link #close}. */
    public int fd() {
        ensureOpen();
        return fd;
    }

    public synchronized boolean isOpen() {
        return !closed;
    }

    private synchronized void ensureOpen() {
        if (closed) throw new IllegalStateException(what + " is closed");
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        BpfObject.callInt(() -> (int) CLOSE.invokeExact(fd));
    }

    static Stat decode(MemorySegment b) {
        return new Stat(
                b.get(ValueLayout.JAVA_LONG, 32),
                b.get(ValueLayout.JAVA_INT, 136), b.get(ValueLayout.JAVA_INT, 140),
                b.get(ValueLayout.JAVA_LONG, 40),
                Short.toUnsignedInt(b.get(ValueLayout.JAVA_SHORT, 28)),
                b.get(ValueLayout.JAVA_INT, 20),
                timestamp(b, 112), timestamp(b, 96));
    }

    private static long timestamp(MemorySegment b, long off) {
        return b.get(ValueLayout.JAVA_LONG, off) * 1_000_000_000L + Integer.toUnsignedLong(b.get(ValueLayout.JAVA_INT, off + 8));
    }

    @Override
    public String toString() {
        return "NativeFile[" + what + (closed ? ", closed" : ", fd " + fd) + "]";
    }
}

package io.peekd.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/**
 * A fanotify group in notification mode: inodes are marked through a file
 * descriptor we hold, and every write to a marked inode is reported, whatever
 * path it was written through. Needs CAP_SYS_ADMIN.
 */
public final class Fanotify implements AutoCloseable {
    public static final long FAN_MODIFY = 0x2, FAN_CLOSE_WRITE = 0x8, FAN_Q_OVERFLOW = 0x4000;
    private static final int FAN_CLASS_NOTIF = 0, FAN_CLOEXEC = 1, FAN_NONBLOCK = 2;
    private static final int FAN_MARK_ADD = 1, FAN_MARK_REMOVE = 2;
    private static final int O_RDONLY = 0, O_CLOEXEC = 02000000;
    private static final int EVENT_METADATA_LEN = 24, POLLIN = 1;
    private static final int BUFFER = 64 * 1024;

    private static final MethodHandle INIT = Native.libc("fanotify_init",
            FunctionDescriptor.of(Native.INT, Native.INT, Native.INT), Native.CAPTURE_ERRNO);
    private static final MethodHandle MARK = Native.libc("fanotify_mark",
            FunctionDescriptor.of(Native.INT, Native.INT, Native.INT, Native.LONG, Native.INT, Native.PTR),
            Native.CAPTURE_ERRNO);
    private static final MethodHandle READ = Native.libc("read",
            FunctionDescriptor.of(Native.LONG, Native.INT, Native.PTR, Native.LONG), Native.CAPTURE_ERRNO);
    private static final MethodHandle POLL = Native.libc("poll",
            FunctionDescriptor.of(Native.INT, Native.PTR, Native.LONG, Native.INT), Native.CAPTURE_ERRNO);
    private static final MethodHandle CLOSE = Native.libc("close", FunctionDescriptor.of(Native.INT, Native.INT));

    /**
     * One reported change. {@code file} is an open descriptor of the changed
     * file (null on queue overflow, when changes were lost and every cached
     * fact must be checked again); the receiver closes it.
     */
    public record Event(long mask, NativeFile file) {
        public boolean overflow() {
            return (mask & FAN_Q_OVERFLOW) != 0;
        }
    }

    private final Arena arena = Arena.ofShared();
    private final MemorySegment buffer;
    private final MemorySegment pollfd;
    private final int fd;
    private boolean closed;

    private Fanotify(int fd) {
        this.fd = fd;
        this.buffer = arena.allocate(BUFFER, 8);
        this.pollfd = arena.allocate(8, 4);
    }

    public static Fanotify open() throws SysError {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            int fd = (int) INIT.invokeExact(state, FAN_CLASS_NOTIF | FAN_CLOEXEC | FAN_NONBLOCK, O_RDONLY | O_CLOEXEC);
            if (fd < 0) throw new SysError("fanotify_init", Native.errno(state));
            return new Fanotify(fd);
        } catch (SysError e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Reports writes to the inode behind {@code file}. */
    public void mark(NativeFile file, long mask) throws SysError {
        mark(FAN_MARK_ADD, file, mask);
    }

    /** Stops reporting the inode; done before the descriptor is closed so no mark outlives its cache entry. */
    public void unmark(NativeFile file, long mask) throws SysError {
        mark(FAN_MARK_REMOVE, file, mask);
    }

    private synchronized void mark(int op, NativeFile file, long mask) throws SysError {
        if (closed) return;
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            int rc = (int) MARK.invokeExact(state, fd, op, mask, file.fd(), MemorySegment.NULL);
            if (rc != 0) throw new SysError(op == FAN_MARK_ADD ? "fanotify_mark add" : "fanotify_mark remove",
                    Native.errno(state));
        } catch (SysError e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * Waits up to {@code timeoutMs} for changes and returns those that arrived
     * (empty on timeout). Call from one platform thread only.
     */
    public List<Event> poll(int timeoutMs) throws SysError {
        List<Event> out = new ArrayList<>();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            synchronized (this) {
                if (closed) return out;
                pollfd.set(ValueLayout.JAVA_INT, 0, fd);
                pollfd.set(ValueLayout.JAVA_SHORT, 4, (short) POLLIN);
                pollfd.set(ValueLayout.JAVA_SHORT, 6, (short) 0);
            }
            int rc = (int) POLL.invokeExact(state, pollfd, 1L, timeoutMs);
            if (rc < 0) {
                int err = Native.errno(state);
                if (err == SysError.EINTR) return out;
                throw new SysError("poll fanotify", err);
            }
            if (rc == 0) return out;
            synchronized (this) {
                if (closed) return out;
                long n = (long) READ.invokeExact(state, fd, buffer, (long) BUFFER);
                if (n < 0) {
                    int err = Native.errno(state);
                    if (err == SysError.EAGAIN || err == SysError.EINTR) return out;
                    throw new SysError("read fanotify", err);
                }
                decode(buffer, n, out);
            }
            return out;
        } catch (SysError e) {
            throw e;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    static void decode(MemorySegment buf, long n, List<Event> out) {
        long off = 0;
        while (off + EVENT_METADATA_LEN <= n) {
            int len = buf.get(ValueLayout.JAVA_INT, off);
            if (len < EVENT_METADATA_LEN || off + len > n) break;
            long mask = buf.get(ValueLayout.JAVA_LONG, off + 8);
            int efd = buf.get(ValueLayout.JAVA_INT, off + 16);
            out.add(new Event(mask, efd >= 0 ? NativeFile.adopt(efd, "fanotify event") : null));
            off += len;
        }
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        BpfObject.callInt(() -> (int) CLOSE.invokeExact(fd));
        arena.close();
    }
}

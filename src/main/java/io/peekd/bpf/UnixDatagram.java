package io.peekd.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A Unix datagram socket: what sd_notify speaks. The JDK's
 * {@code UnixDomainSocketAddress} only works with stream channels, so this is
 * the one socket peekd opens through libc. Addresses starting with {@code @}
 * are in the abstract namespace, as in {@code NOTIFY_SOCKET}.
 */
public final class UnixDatagram implements AutoCloseable {
    private static final int AF_UNIX = 1, SOCK_DGRAM = 2, SOCK_CLOEXEC = 02000000;
    private static final int SOL_SOCKET = 1, SO_RCVTIMEO = 20, MSG_NOSIGNAL = 0x4000;
    private static final int SUN_PATH = 108;
    private static final MethodHandle SOCKET = Native.libc("socket",
            FunctionDescriptor.of(Native.INT, Native.INT, Native.INT, Native.INT), Native.CAPTURE_ERRNO);
    private static final MethodHandle BIND = Native.libc("bind",
            FunctionDescriptor.of(Native.INT, Native.INT, Native.PTR, Native.INT), Native.CAPTURE_ERRNO);
    private static final MethodHandle SENDTO = Native.libc("sendto",
            FunctionDescriptor.of(Native.LONG, Native.INT, Native.PTR, Native.LONG, Native.INT, Native.PTR, Native.INT),
            Native.CAPTURE_ERRNO);
    private static final MethodHandle RECV = Native.libc("recv",
            FunctionDescriptor.of(Native.LONG, Native.INT, Native.PTR, Native.LONG, Native.INT), Native.CAPTURE_ERRNO);
    private static final MethodHandle SETSOCKOPT = Native.libc("setsockopt",
            FunctionDescriptor.of(Native.INT, Native.INT, Native.INT, Native.INT, Native.PTR, Native.INT),
            Native.CAPTURE_ERRNO);
    private static final MethodHandle CLOSE = Native.libc("close", FunctionDescriptor.of(Native.INT, Native.INT));

    private final int fd;
    private boolean closed;

    private UnixDatagram(int fd) {
        this.fd = fd;
    }

    /** An unbound socket, for sending. */
    public static UnixDatagram open() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.newCallState(a);
            int fd = (int) SOCKET.invokeExact(st, AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0) throw BpfException.errno("cannot create a unix datagram socket", Native.errno(st));
            return new UnixDatagram(fd);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** A socket bound to {@code address}, for receiving (tests stand in for systemd with it). */
    public static UnixDatagram bind(String address) {
        UnixDatagram s = open();
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.newCallState(a);
            MemorySegment sa = sockaddr(a, address);
            int rc = (int) BIND.invokeExact(st, s.fd, sa, (int) sa.byteSize());
            if (rc < 0) throw BpfException.errno("cannot bind " + address, Native.errno(st));
            return s;
        } catch (Throwable t) {
            s.close();
            throw Native.rethrow(t);
        }
    }

    /** Sends one datagram; throws with the errno text when the peer is gone. */
    public synchronized void send(String address, String message) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.newCallState(a);
            MemorySegment sa = sockaddr(a, address);
            byte[] b = message.getBytes(StandardCharsets.UTF_8);
            MemorySegment buf = a.allocate(Math.max(1, b.length));
            MemorySegment.copy(b, 0, buf, ValueLayout.JAVA_BYTE, 0, b.length);
            long n = (long) SENDTO.invokeExact(st, fd, buf, (long) b.length, MSG_NOSIGNAL, sa, (int) sa.byteSize());
            if (n < 0) throw BpfException.errno("cannot send to " + address, Native.errno(st));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** The next datagram, or null when none came within {@code timeout}. */
    public String receive(Duration timeout) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment st = Native.newCallState(a);
            MemorySegment tv = a.allocate(16, 8);
            tv.set(ValueLayout.JAVA_LONG, 0, Math.max(0, timeout.toSeconds()));
            tv.set(ValueLayout.JAVA_LONG, 8, Math.max(1, timeout.toNanosPart() / 1000));
            int rc = (int) SETSOCKOPT.invokeExact(st, fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16);
            if (rc < 0) throw BpfException.errno("cannot set a receive timeout", Native.errno(st));
            MemorySegment buf = a.allocate(4096);
            long n = (long) RECV.invokeExact(st, fd, buf, 4096L, 0);
            if (n < 0) {
                int err = Native.errno(st);
                if (err == 11 /* EAGAIN: the timeout */ || err == 4 /* EINTR */) return null;
                throw BpfException.errno("cannot receive", err);
            }
            byte[] out = buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE);
            return new String(out, StandardCharsets.UTF_8);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static MemorySegment sockaddr(Arena a, String address) {
        byte[] path = address.getBytes(StandardCharsets.UTF_8);
        boolean abstractName = address.startsWith("@");
        if (path.length >= SUN_PATH) throw new BpfException("unix socket address too long: " + address);
        // sun_family (2 bytes) + path; abstract names replace '@' by NUL and are not NUL-terminated.
        int len = 2 + path.length + (abstractName ? 0 : 1);
        MemorySegment sa = a.allocate(len, 2);
        sa.set(ValueLayout.JAVA_SHORT, 0, (short) AF_UNIX);
        MemorySegment.copy(path, 0, sa, ValueLayout.JAVA_BYTE, 2, path.length);
        if (abstractName) sa.set(ValueLayout.JAVA_BYTE, 2, (byte) 0);
        return sa;
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        BpfObject.callInt(() -> (int) CLOSE.invokeExact(fd));
    }
}

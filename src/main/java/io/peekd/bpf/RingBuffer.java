package io.peekd.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.function.Consumer;

/**
 * libbpf's ring-buffer consumer. Poll it from one platform thread: the poll
 * blocks in epoll_wait, and each record is handed to the handler through an
 * upcall. The handler sees a segment that is only valid during the call.
 */
public final class RingBuffer implements AutoCloseable {
    private final Arena arena = Arena.ofShared();
    private final MemorySegment rb;
    private final Consumer<MemorySegment> handler;
    private volatile Throwable lastHandlerError;
    private long handlerErrors;

    public RingBuffer(BpfMap map, Consumer<MemorySegment> handler) {
        this.handler = handler;
        try {
            MethodHandle target = MethodHandles.lookup().findVirtual(RingBuffer.class, "onSample",
                    MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, long.class)).bindTo(this);
            MemorySegment stub = Native.LINKER.upcallStub(target,
                    FunctionDescriptor.of(Native.INT, Native.PTR, Native.PTR, Native.LONG), arena);
            MemorySegment state = Native.newCallState(arena);
            rb = (MemorySegment) Libbpf.RING_BUFFER_NEW.invokeExact(state, map.fd(), stub, MemorySegment.NULL,
                    MemorySegment.NULL);
            if (rb.equals(MemorySegment.NULL))
                throw BpfException.errno("cannot open ring buffer " + map.name(), Native.errno(state));
        } catch (Throwable t) {
            arena.close();
            throw Native.rethrow(t);
        }
    }

    /** Upcall from libbpf: an exception here would kill the JVM, so none escapes. */
    private int onSample(MemorySegment ctx, MemorySegment data, long size) {
        try {
            handler.accept(data.reinterpret(size));
        } catch (Throwable t) {
            handlerErrors++;
            lastHandlerError = t;
        }
        return 0;
    }

    /** Waits up to timeoutMs and consumes what arrived; returns the records consumed. */
    public int poll(int timeoutMs) {
        int n = BpfObject.callInt(() -> (int) Libbpf.RING_BUFFER_POLL.invokeExact(rb, timeoutMs));
        if (n < 0 && n != -Errno.EINTR) throw BpfException.errno("ring buffer poll", n);
        return Math.max(n, 0);
    }

    /** Records the handler failed on (they are counted, never fatal). */
    public long handlerErrors() {
        return handlerErrors;
    }

    public Throwable lastHandlerError() {
        return lastHandlerError;
    }

    @Override
    public void close() {
        BpfObject.call(() -> {
            Libbpf.RING_BUFFER_FREE.invokeExact(rb);
            return null;
        });
        arena.close();
    }
}

package io.peekd.capture;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.peekd.bpf.BpfMap;
import io.peekd.bpf.MappedMap;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.List;

/**
 * Reads the per-socket counter slots (struct peekd_slot) in place, through an
 * mmap of the kernel's array, and turns them into deltas like the flows-map
 * drain does. The kernel only adds to a taken slot's counters and this class
 * alone resets them, after the socket was released and its final counts were
 * read, so every byte is reported exactly once. Call from one thread only.
 */
final class SlotDrainer implements AutoCloseable {
    private static final long SIZE = Layouts.SLOT.byteSize();
    private static final long O_STATE = Layouts.offset(Layouts.SLOT, "state");
    private static final long O_KEY = Layouts.offset(Layouts.SLOT, "key");
    private static final long O_SENT = Layouts.offset(Layouts.SLOT, "sent_bytes");
    private static final long O_RECV = Layouts.offset(Layouts.SLOT, "recv_bytes");
    private static final long O_SENT_CALLS = Layouts.offset(Layouts.SLOT, "sent_calls");
    private static final long O_RECV_CALLS = Layouts.offset(Layouts.SLOT, "recv_calls");
    // Acquire loads: the key and counters must not be read before the state that vouches for them.
    private static final VarHandle INT = JAVA_INT.varHandle();
    private static final VarHandle LONG = JAVA_LONG.varHandle();

    private final MappedMap mapped;
    private final MemorySegment slots;
    private final BpfMap free;
    private final int count;
    /** Per slot: its flow (decoded once per owner) and the counter values last reported. */
    private final FlowKey[] keys;
    private final long[] sent, recv, sentCalls, recvCalls;
    private volatile long sendCallsTotal, recvCallsTotal;
    private volatile int inUse;
    private long lost;

    private SlotDrainer(MappedMap mapped, BpfMap free, int count) {
        this.mapped = mapped;
        this.slots = mapped.segment();
        this.free = free;
        this.count = count;
        keys = new FlowKey[count];
        sent = new long[count];
        recv = new long[count];
        sentCalls = new long[count];
        recvCalls = new long[count];
    }

    /** Maps the array and offers every slot to the kernel. Fresh maps only: all slots must be FREE. */
    static SlotDrainer open(BpfMap slots, BpfMap free, int count) {
        MappedMap m = slots.mmap(count * SIZE);
        try {
            SlotDrainer d = new SlotDrainer(m, free, count);
            for (int i = 0; i < count; i++) d.offer(i);
            return d;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    private void offer(int i) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = a.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, i);
            free.push(v);
        }
    }

    long sendCalls() {
        return sendCallsTotal;
    }

    long recvCalls() {
        return recvCallsTotal;
    }

    /** Slots held by sockets at the last drain. */
    int inUse() {
        return inUse;
    }

    int size() {
        return count;
    }

    /** Adds to {@code out} what every slot counted since the previous pass, and frees released slots. */
    void drain(List<FlowDelta> out) {
        long sc = 0, rc = 0;
        int used = 0;
        for (int i = 0; i < count; i++) {
            long base = i * SIZE;
            int state = (int) INT.getAcquire(slots, base + O_STATE);
            if (state != Layouts.SLOT_ACTIVE && state != Layouts.SLOT_RELEASED) continue;
            if (keys[i] == null) keys[i] = EventDecoder.key(slots.asSlice(base + O_KEY, Layouts.FLOW_KEY.byteSize()));
            long s = (long) LONG.getAcquire(slots, base + O_SENT);
            long r = (long) LONG.getAcquire(slots, base + O_RECV);
            long c1 = (long) LONG.getAcquire(slots, base + O_SENT_CALLS);
            long c2 = (long) LONG.getAcquire(slots, base + O_RECV_CALLS);
            if (s != sent[i] || r != recv[i]) out.add(new FlowDelta(keys[i], s - sent[i], r - recv[i], 0));
            sc += c1 - sentCalls[i];
            rc += c2 - recvCalls[i];
            sent[i] = s;
            recv[i] = r;
            sentCalls[i] = c1;
            recvCalls[i] = c2;
            if (state == Layouts.SLOT_RELEASED) release(i, base);
            else used++;
        }
        sendCallsTotal += sc;
        recvCallsTotal += rc;
        inUse = used;
    }

    /** The socket is gone and its final counts are read: the slot may serve another. */
    private void release(int i, long base) {
        slots.set(JAVA_LONG, base + O_SENT, 0);
        slots.set(JAVA_LONG, base + O_RECV, 0);
        slots.set(JAVA_LONG, base + O_SENT_CALLS, 0);
        slots.set(JAVA_LONG, base + O_RECV_CALLS, 0);
        INT.setRelease(slots, base + O_STATE, Layouts.SLOT_FREE);
        keys[i] = null;
        sent[i] = recv[i] = sentCalls[i] = recvCalls[i] = 0;
        try {
            offer(i);
        } catch (RuntimeException e) {
            // The deltas of this pass are already in the caller's list; losing a slot only costs speed.
            lost++;
            if (lost == 1)
                System.getLogger("peekd.capture").log(System.Logger.Level.WARNING,
                        "a freed socket slot could not be handed back to the kernel: " + e.getMessage());
        }
    }

    @Override
    public void close() {
        mapped.close();
    }
}

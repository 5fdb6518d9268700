package io.peekd.capture;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.peekd.bpf.BpfMap;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Reads the kernel's cumulative per-flow counters and turns them into deltas.
 * The kernel never resets a counter; we remember the last totals, so nothing
 * that lands between a read and a reset can be lost. Entries are deleted only
 * once their owner is gone (process exit, TCP close) or after a long idle
 * period, with lookup-and-delete so the last increment is still accounted.
 */
final class FlowDrainer {
    private static final int BATCH = 4096;
    private static final long VAL_SIZE = Layouts.FLOW_VAL.byteSize();
    private static final long O_SENT = Layouts.offset(Layouts.FLOW_VAL, "sent_bytes");
    private static final long O_RECV = Layouts.offset(Layouts.FLOW_VAL, "recv_bytes");
    private static final long O_CONNS = Layouts.offset(Layouts.FLOW_VAL, "conns");
    private static final long O_SENT_CALLS = Layouts.offset(Layouts.FLOW_VAL, "sent_calls");
    private static final long O_RECV_CALLS = Layouts.offset(Layouts.FLOW_VAL, "recv_calls");

    private final BpfMap flows;
    private final int cpus;
    private final int idleDrainsBeforeEvict;
    private final Map<FlowKey, Seen> seen = new HashMap<>();
    private final ConcurrentLinkedQueue<KernelEvent> endings = new ConcurrentLinkedQueue<>();
    private final Set<ProcKey> deadProcs = new HashSet<>();
    private long evicted;
    /** Send and receive calls over every flow ever drained; the kernel counts them per flow only. */
    private volatile long sendCalls, recvCalls;

    /** Last cumulative totals of a key and how many drains it has been unchanged. */
    private static final class Seen {
        long sent, recv, conns, sentCalls, recvCalls;
        int idle;
        boolean closing;
    }

    FlowDrainer(BpfMap flows, int cpus, int idleDrainsBeforeEvict) {
        this.flows = flows;
        this.cpus = cpus;
        this.idleDrainsBeforeEvict = idleDrainsBeforeEvict;
    }

    /** Called from the ring-buffer thread: an Exit or Close makes keys evictable. */
    void onEnding(KernelEvent e) {
        endings.add(e);
    }

    int tracked() {
        return seen.size();
    }

    long evicted() {
        return evicted;
    }

    long sendCalls() {
        return sendCalls;
    }

    long recvCalls() {
        return recvCalls;
    }

    /** One pass over the map. Returns the flows that moved since the previous pass. */
    List<FlowDelta> drain() {
        List<FlowDelta> out = new ArrayList<>();
        Set<FlowKey> present = new HashSet<>();
        long stride = cpus * VAL_SIZE;
        flows.forEach((int) Layouts.FLOW_KEY.byteSize(), (int) stride, BATCH, (k, v) -> {
            FlowKey key = EventDecoder.key(k);
            present.add(key);
            account(key, v, out);
        });
        // A key we knew that vanished was deleted by us; nothing to do. Now apply endings seen since last pass.
        applyEndings();
        evict(present, out);
        return out;
    }

    private void account(FlowKey key, MemorySegment v, List<FlowDelta> out) {
        long sent = 0, recv = 0, conns = 0, sc = 0, rc = 0;
        for (int c = 0; c < cpus; c++) {
            long base = c * VAL_SIZE;
            sent += v.get(JAVA_LONG, base + O_SENT);
            recv += v.get(JAVA_LONG, base + O_RECV);
            conns += v.get(JAVA_LONG, base + O_CONNS);
            sc += v.get(JAVA_LONG, base + O_SENT_CALLS);
            rc += v.get(JAVA_LONG, base + O_RECV_CALLS);
        }
        Seen s = seen.computeIfAbsent(key, x -> new Seen());
        sendCalls += sc - s.sentCalls;
        recvCalls += rc - s.recvCalls;
        s.sentCalls = sc;
        s.recvCalls = rc;
        long ds = sent - s.sent, dr = recv - s.recv, dc = conns - s.conns;
        if (ds != 0 || dr != 0 || dc != 0) {
            out.add(new FlowDelta(key, ds, dr, dc));
            s.sent = sent;
            s.recv = recv;
            s.conns = conns;
            s.idle = 0;
        } else {
            s.idle++;
        }
    }

    private void applyEndings() {
        KernelEvent e;
        while ((e = endings.poll()) != null) {
            switch (e) {
                case KernelEvent.Exit x -> deadProcs.add(new ProcKey(x.tgid(), x.startNs()));
                case KernelEvent.Close c -> {
                    Seen s = seen.get(c.key());
                    if (s != null) s.closing = true;
                }
                default -> { }
            }
        }
    }

    /**
     * Deletes entries that can no longer grow: dead processes (after one quiet
     * drain, so the final counts were read), closed sockets after two quiet
     * drains, and anything idle for a long time.
     */
    private void evict(Set<FlowKey> present, List<FlowDelta> out) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(Layouts.FLOW_KEY);
            MemorySegment v = a.allocate(cpus * VAL_SIZE, 8);
            Set<ProcKey> stillPresent = new HashSet<>();
            for (Iterator<Map.Entry<FlowKey, Seen>> it = seen.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<FlowKey, Seen> en = it.next();
                FlowKey key = en.getKey();
                Seen s = en.getValue();
                if (!present.contains(key)) {
                    it.remove();
                    continue;
                }
                boolean dead = deadProcs.contains(key.proc());
                if (dead) stillPresent.add(key.proc());
                boolean go = (dead && s.idle >= 1) || (s.closing && s.idle >= 2) || s.idle >= idleDrainsBeforeEvict;
                if (!go) continue;
                EventDecoder.encode(key, k);
                if (flows.lookupAndDelete(k, v)) {
                    // Whatever arrived between the scan and the delete is still ours.
                    account(key, v, out);
                    evicted++;
                }
                it.remove();
            }
            deadProcs.retainAll(stillPresent);
        }
    }
}

package io.peekd.capture;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.peekd.bpf.BpfException;
import io.peekd.bpf.BpfMap;
import io.peekd.bpf.BpfObject;
import io.peekd.bpf.RingBuffer;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * The kernel side as the daemon sees it: loads and attaches the programs,
 * consumes the ring buffer on its own platform thread, and drains the flow
 * counters on request (from exactly one thread).
 */
public final class Capture implements AutoCloseable {
    static final List<String> TRACEPOINTS = List.of("on_send", "on_recv", "on_tcp_rcv", "on_state", "on_exec", "on_exit");
    static final List<String> CGROUP_HOOKS = List.of("on_sendmsg4", "on_sendmsg6", "on_recvmsg4", "on_recvmsg6",
            "on_egress", "on_ingress");
    private static final int STATS = 16;

    /** socketSlots: sockets that can count on the fast path at once (the rest take the hash-map path). */
    public record Options(int flowMapEntries, int ringBufferKib, int idleDrainsBeforeEvict, int socketSlots) {
        public static final int DEFAULT_SOCKET_SLOTS = 16384;

        public Options(int flowMapEntries, int ringBufferKib, int idleDrainsBeforeEvict) {
            this(flowMapEntries, ringBufferKib, idleDrainsBeforeEvict, DEFAULT_SOCKET_SLOTS);
        }

        public Options {
            if (socketSlots < 1) throw new IllegalArgumentException("socketSlots must be positive: " + socketSlots);
        }
    }

    private final BpfObject obj;
    private final RingBuffer ring;
    private final FlowDrainer drainer;
    private final BpfMap stats;
    private final int cpus;
    private final KernelProbe.Result probe;
    private final Thread ringThread;
    private final AtomicLong ringEvents = new AtomicLong(), undecodable = new AtomicLong();
    private volatile boolean running = true;
    private volatile String resolverProbe = "not attached";
    /** The per-socket counter slots, or null when the fast path is off. */
    private volatile SlotDrainer slots;
    private final int socketSlots;

    private Capture(BpfObject obj, KernelProbe.Result probe, Options o, Consumer<KernelEvent> listener) {
        this.obj = obj;
        this.probe = probe;
        this.socketSlots = o.socketSlots();
        this.cpus = BpfObject.possibleCpus();
        this.stats = obj.map("stats");
        this.drainer = new FlowDrainer(obj.map("flows"), cpus, o.idleDrainsBeforeEvict());
        this.ring = new RingBuffer(obj.map("events"), seg -> {
            ringEvents.incrementAndGet();
            KernelEvent e = EventDecoder.decode(seg);
            if (e == null) {
                undecodable.incrementAndGet();
                return;
            }
            if (e instanceof KernelEvent.Exit || e instanceof KernelEvent.Close) drainer.onEnding(e);
            listener.accept(e);
        });
        this.ringThread = Thread.ofPlatform().name("peekd-ring").daemon().unstarted(this::pollLoop);
    }

    /**
     * Loads, verifies layouts, attaches everything, and starts consuming
     * events. The listener runs on the ring thread and must be quick.
     */
    public static Capture start(KernelProbe.Result probe, Options o, Consumer<KernelEvent> listener) {
        BpfObject obj = loadChecked(probe, b -> {
            b.setMaxEntries("flows", o.flowMapEntries());
            b.setMaxEntries("events", o.ringBufferKib() * 1024);
            b.setMaxEntries("slots", o.socketSlots());
            b.setMaxEntries("free_slots", o.socketSlots());
        });
        try {
            List<String> tracepoints = hooks(probe);
            Capture c = new Capture(obj, probe, o, listener);
            for (String p : tracepoints) obj.attach(p);
            for (String p : CGROUP_HOOKS) obj.attachCgroup(p, probe.cgroup2());
            c.attachResolverProbes(obj);
            c.enableFastPath();
            c.ringThread.start();
            return c;
        } catch (RuntimeException e) {
            obj.close();
            throw e;
        }
    }

    /** Picks the send/recv programs of the hook set, loads, and checks the Java layouts against the BTF. */
    private static BpfObject loadChecked(KernelProbe.Result probe, Consumer<BpfObject> configure) {
        BpfObject obj = BpfObject.open(embeddedObject("peekd.bpf.o"));
        try {
            configure.accept(obj);
            if (KernelProbe.FEXIT.equals(probe.hookSet())) {
                obj.setAutoload("on_send", false);
                obj.setAutoload("on_recv", false);
                obj.setAutoload("on_send_fexit", true);
                obj.setAutoload("on_recv_fexit", true);
            }
            obj.load();
            List<String> problems = Layouts.verify(obj.btf());
            if (!problems.isEmpty())
                throw new BpfException("the BPF object and this build disagree on event layouts: "
                        + String.join("; ", problems));
            return obj;
        } catch (RuntimeException e) {
            obj.close();
            throw e;
        }
    }

    /** The programs attached by name for a hook set. */
    static List<String> hooks(KernelProbe.Result probe) {
        if (!KernelProbe.FEXIT.equals(probe.hookSet())) return TRACEPOINTS;
        List<String> l = new java.util.ArrayList<>(TRACEPOINTS);
        l.replaceAll(p -> switch (p) {
            case "on_send" -> "on_send_fexit";
            case "on_recv" -> "on_recv_fexit";
            default -> p;
        });
        return List.copyOf(l);
    }

    /**
     * Loads the benchmark floor (same hooks, empty programs) and keeps it
     * attached until the returned object is closed.
     */
    public static AutoCloseable attachFloor(KernelProbe.Result probe) {
        BpfObject obj = BpfObject.open(embeddedObject("floor.bpf.o"));
        try {
            obj.load();
            for (String p : TRACEPOINTS) obj.attach(p);
            for (String p : CGROUP_HOOKS) obj.attachCgroup(p, probe.cgroup2());
            obj.attachCgroup("on_sock_release", probe.cgroup2());
            libcPath().ifPresent(libc -> {
                obj.attachUprobe("on_gai_enter", libc, "getaddrinfo", false);
                obj.attachUprobe("on_gai_exit", libc, "getaddrinfo", true);
            });
            return obj;
        } catch (RuntimeException e) {
            obj.close();
            throw e;
        }
    }

    /**
     * Lets sockets count their usual flow in a slot of the mmap-ed slots array
     * (see sk_info in peekd.bpf.c), which every drain reads in place. This is
     * the only fast path: it needs no BPF iterator (some kernels refuse them:
     * EPERM under lockdown=integrity), and where iterators load it costs the
     * same per call as counting in socket storage and flushing with an
     * iterator did (one more array lookup, inlined by the verifier), while a
     * drain reads memory instead of walking every socket in the kernel. The
     * release hook must be attached first: it is what hands slots back.
     * Without it, or without the mapping, counting stays exact on the hash path.
     */
    private void enableFastPath() {
        try {
            obj.attachCgroup("on_sock_release", probe.cgroup2());
            slots = SlotDrainer.open(obj.map("slots"), obj.map("free_slots"), socketSlots);
            setFastPath(true);
        } catch (RuntimeException e) {
            SlotDrainer s = slots;
            slots = null;
            if (s != null) s.close();
            System.getLogger("peekd.capture").log(System.Logger.Level.WARNING,
                    "per-socket fast path off (exact, but slower): " + String.valueOf(e.getMessage()).lines().findFirst().orElse(""));
        }
    }

    private void setFastPath(boolean on) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(JAVA_INT);
            MemorySegment v = a.allocate(JAVA_INT);
            v.set(JAVA_INT, 0, on ? 1 : 0);
            obj.map("settings").update(k, v);
        }
    }

    /** Sends counted in slots so far (tests: the fast path really ran). */
    long slotSendCalls() {
        SlotDrainer s = slots;
        return s == null ? 0 : s.sendCalls();
    }

    /** Whether per-socket counting is on (for status and metrics). */
    public boolean fastPath() {
        return slots != null;
    }

    /**
     * getaddrinfo() evidence is a bonus on top of DNS answers: if libc cannot
     * be found or probed, capture goes on and status says why.
     */
    private void attachResolverProbes(BpfObject o) {
        var libc = libcPath();
        if (libc.isEmpty()) {
            resolverProbe = "not attached: libc.so.6 not found in /proc/self/maps";
            return;
        }
        try {
            o.attachUprobe("on_gai_enter", libc.get(), "getaddrinfo", false);
            o.attachUprobe("on_gai_exit", libc.get(), "getaddrinfo", true);
            resolverProbe = "attached to " + libc.get() + ":getaddrinfo";
        } catch (BpfException e) {
            resolverProbe = "not attached: " + e.getMessage().lines().findFirst().orElse("");
            System.getLogger("peekd.capture").log(System.Logger.Level.WARNING, "getaddrinfo probe " + resolverProbe);
        }
    }

    /** The C library this machine's processes use (the one the JVM itself maps). */
    static java.util.Optional<java.nio.file.Path> libcPath() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/maps"))) {
                int i = line.indexOf('/');
                if (i >= 0 && line.endsWith("/libc.so.6")) return java.util.Optional.of(java.nio.file.Path.of(line.substring(i)));
            }
        } catch (IOException e) {
            return java.util.Optional.empty();
        }
        return java.util.Optional.empty();
    }

    /** Whether the getaddrinfo probes are attached, or why not. */
    public String resolverProbe() {
        return resolverProbe;
    }

    /**
     * {@code peekd doctor}'s trial: loads the programs, attaches each hook on
     * its own, and detaches everything again. Returns, per hook in attach
     * order, null when it attached or the reason it did not; a load failure
     * (the verifier refused a program) is thrown with libbpf's log.
     */
    public static java.util.Map<String, String> trialAttach(KernelProbe.Result probe) {
        java.util.Map<String, String> out = new java.util.LinkedHashMap<>();
        try (BpfObject obj = loadChecked(probe, b -> { })) {
            for (String p : hooks(probe)) out.put(p, attempt(() -> obj.attach(p)));
            for (String p : CGROUP_HOOKS) out.put(p, attempt(() -> obj.attachCgroup(p, probe.cgroup2())));
            out.put("on_sock_release", attempt(() -> obj.attachCgroup("on_sock_release", probe.cgroup2())));
            out.put("socket_slots", attempt(() -> obj.map("slots").mmap(4096).close()));
            var libc = libcPath();
            for (String p : List.of("on_gai_enter", "on_gai_exit"))
                out.put(p, libc.isEmpty() ? "libc.so.6 not found" : attempt(() -> obj.attachUprobe(p, libc.get(), "getaddrinfo",
                        p.endsWith("exit"))));
        }
        return out;
    }

    private static String attempt(Runnable attach) {
        try {
            attach.run();
            return null;
        } catch (BpfException e) {
            return e.getMessage();
        }
    }

    static byte[] embeddedObject(String name) {
        try (InputStream in = Capture.class.getResourceAsStream("/io/peekd/bpf/" + name)) {
            if (in == null) throw new BpfException("the jar has no BPF object " + name + " (was it built without clang?)");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new BpfException("cannot read the embedded BPF object: " + e.getMessage(), e);
        }
    }

    private void pollLoop() {
        while (running) {
            try {
                ring.poll(100);
            } catch (RuntimeException e) {
                if (!running) return;
                System.getLogger("peekd.capture").log(System.Logger.Level.ERROR, "ring buffer poll failed: " + e.getMessage());
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    /** Flows that moved since the last call. Call from one thread only. */
    public List<FlowDelta> drain() {
        List<FlowDelta> out = drainer.drain();
        SlotDrainer s = slots;
        if (s != null) s.drain(out);
        return out;
    }

    public String hookSet() {
        return probe.hookSet();
    }

    public CaptureStats stats() {
        long[] s = new long[STATS];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment k = a.allocate(JAVA_INT);
            MemorySegment v = a.allocate(8L * cpus, 8);
            for (int i = 0; i < STATS; i++) {
                k.set(JAVA_INT, 0, i);
                if (!stats.lookup(k, v)) continue;
                for (int c = 0; c < cpus; c++) s[i] += v.get(JAVA_LONG, 8L * c);
            }
        }
        SlotDrainer sl = slots;
        return new CaptureStats(s[0], s[1], s[2], s[11], s[3], s[4], s[5], s[6], s[10], s[7],
                drainer.sendCalls() + (sl == null ? 0 : sl.sendCalls()), drainer.recvCalls() + (sl == null ? 0 : sl.recvCalls()),
                ringEvents.get(), undecodable.get(), ring.handlerErrors(), drainer.tracked(), drainer.evicted(),
                sl == null ? 0 : sl.inUse(), sl == null ? 0 : sl.size(), s[12]);
    }

    @Override
    public void close() {
        running = false;
        try {
            ringThread.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        ring.close();
        SlotDrainer s = slots;
        slots = null;
        if (s != null) s.close();
        obj.close();
    }
}

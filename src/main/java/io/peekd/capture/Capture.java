package io.peekd.capture;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import io.peekd.bpf.BpfException;
import io.peekd.bpf.BpfMap;
import io.peekd.bpf.BpfObject;
import io.peekd.bpf.MapIterator;
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

    public record Options(int flowMapEntries, int ringBufferKib, int idleDrainsBeforeEvict) {
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
    private volatile MapIterator flushSockets;
    /** Why the kernel would not load the flush iterator, or null. */
    private final String iteratorRefused;
    private boolean flushWarned;

    private Capture(BpfObject obj, String iteratorRefused, KernelProbe.Result probe, Options o,
                    Consumer<KernelEvent> listener) {
        this.obj = obj;
        this.iteratorRefused = iteratorRefused;
        this.probe = probe;
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
        Loaded l = loadChecked(probe, obj -> {
            obj.setMaxEntries("flows", o.flowMapEntries());
            obj.setMaxEntries("events", o.ringBufferKib() * 1024);
        });
        BpfObject obj = l.obj();
        try {
            List<String> tracepoints = hooks(probe);
            Capture c = new Capture(obj, l.iteratorRefused(), probe, o, listener);
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

    /**
     * A loaded object, and why the socket flush iterator was left out, or null when it is in.
     */
    private record Loaded(BpfObject obj, String iteratorRefused) {
    }

    /**
     * Picks the send/recv programs of the hook set, loads, and checks the Java layouts against
     * the BTF. Some kernels refuse BPF iterators while they accept everything else (seen on a
     * lockdown-integrity VM kernel: EPERM for iter and fexit programs only); the daemon is
     * exact without the iterator, on the slower path, so a refused load is tried once more
     * without it. libbpf cannot load an object twice, hence a fresh one.
     */
    private static Loaded loadChecked(KernelProbe.Result probe, Consumer<BpfObject> configure) {
        BpfObject obj = openConfigured(probe, configure);
        String refused = null;
        try {
            obj.load();
        } catch (BpfException first) {
            obj.close();
            obj = openConfigured(probe, configure);
            try {
                obj.setAutoload("flush_sockets", false);
                obj.load();
            } catch (RuntimeException e) {
                obj.close();
                throw first; // the iterator was not the problem: the first log is the one to read
            }
            refused = first.getMessage().lines().findFirst().orElse("refused");
            System.getLogger("peekd.capture").log(System.Logger.Level.WARNING, "the kernel refused the socket flush"
                    + " iterator (" + refused + "); loaded without it: counting stays exact, on the slower path");
        } catch (RuntimeException e) {
            obj.close();
            throw e;
        }
        // Checked once the object is loaded, outside the retry: a layout mismatch is this build's fault.
        try {
            List<String> problems = Layouts.verify(obj.btf());
            if (!problems.isEmpty())
                throw new BpfException("the BPF object and this build disagree on event layouts: "
                        + String.join("; ", problems));
            return new Loaded(obj, refused);
        } catch (RuntimeException e) {
            obj.close();
            throw e;
        }
    }

    private static BpfObject openConfigured(KernelProbe.Result probe, Consumer<BpfObject> configure) {
        BpfObject obj = BpfObject.open(embeddedObject("peekd.bpf.o"));
        try {
            configure.accept(obj);
            if (KernelProbe.FEXIT.equals(probe.hookSet())) {
                obj.setAutoload("on_send", false);
                obj.setAutoload("on_recv", false);
                obj.setAutoload("on_send_fexit", true);
                obj.setAutoload("on_recv_fexit", true);
            }
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
     * Lets the kernel keep counts of a socket's usual flow in the socket's own
     * storage (see sk_info in peekd.bpf.c). Only safe with the flush iterator
     * attached, since drains must see those counts; without it capture stays
     * exact, on the slower path.
     */
    private void enableFastPath() {
        if (iteratorRefused != null) {
            flushSockets = null;
            return; // loadChecked has said why
        }
        try {
            obj.attachCgroup("on_sock_release", probe.cgroup2());
            flushSockets = obj.attachMapIterator("flush_sockets", "sk_infos");
            setFastPath(true);
        } catch (BpfException e) {
            flushSockets = null;
            System.getLogger("peekd.capture").log(System.Logger.Level.WARNING,
                    "per-socket fast path off (exact, but slower): " + e.getMessage().lines().findFirst().orElse(""));
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

    /** Whether per-socket counting is on (for status and metrics). */
    public boolean fastPath() {
        return flushSockets != null;
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
        Loaded l = loadChecked(probe, obj -> { });
        try (BpfObject obj = l.obj()) {
            for (String p : hooks(probe)) out.put(p, attempt(() -> obj.attach(p)));
            for (String p : CGROUP_HOOKS) out.put(p, attempt(() -> obj.attachCgroup(p, probe.cgroup2())));
            out.put("on_sock_release", attempt(() -> obj.attachCgroup("on_sock_release", probe.cgroup2())));
            out.put("flush_sockets", l.iteratorRefused() != null ? "the kernel refused to load it: " + l.iteratorRefused()
                    : attempt(() -> obj.attachMapIterator("flush_sockets", "sk_infos")));
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
        flushPending();
        return drainer.drain();
    }

    /** Moves counts waiting in socket storage into the flows map, so this drain sees them. */
    private void flushPending() {
        if (flushSockets == null) return;
        try {
            flushSockets.run();
        } catch (BpfException e) {
            // Sockets stop caching; what they hold is flushed when they close.
            if (!flushWarned)
                System.getLogger("peekd.capture").log(System.Logger.Level.ERROR,
                        "socket flush failed, per-socket fast path turned off: " + e.getMessage());
            flushWarned = true;
            setFastPath(false);
            flushSockets = null;
        }
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
        return new CaptureStats(s[0], s[1], s[2], s[11], s[3], s[4], s[5], s[6], s[10], s[7],
                drainer.sendCalls(), drainer.recvCalls(),
                ringEvents.get(), undecodable.get(), ring.handlerErrors(), drainer.tracked(), drainer.evicted());
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
        obj.close();
    }
}

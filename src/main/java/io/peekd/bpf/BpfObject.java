package io.peekd.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** A BPF ELF object opened from memory, loaded into the kernel, and its attachments. */
public final class BpfObject implements AutoCloseable {
    /** Owns the ELF image too: libbpf may point into it until the object is closed. */
    private final Arena arena;
    private final MemorySegment obj;
    private final List<MemorySegment> links = new ArrayList<>();
    private boolean closed;

    private BpfObject(Arena arena, MemorySegment obj) {
        this.arena = arena;
        this.obj = obj;
    }

    /** Opens an object from bytes (the object is embedded in the jar; no temp file is written). */
    public static BpfObject open(byte[] elf) {
        LibbpfLog.install();
        Arena arena = Arena.ofShared();
        MemorySegment image = arena.allocate(elf.length, 8);
        image.copyFrom(MemorySegment.ofArray(elf));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            MemorySegment o = (MemorySegment) Libbpf.OBJECT_OPEN_MEM.invokeExact(state, image, (long) elf.length,
                    MemorySegment.NULL);
            if (o.equals(MemorySegment.NULL))
                throw withLog(BpfException.errno("cannot open the BPF object", Native.errno(state)));
            return new BpfObject(arena, o);
        } catch (Throwable t) {
            arena.close();
            throw Native.rethrow(t);
        }
    }

    public void setMaxEntries(String map, int entries) {
        int rc = callInt(() -> (int) Libbpf.MAP_SET_MAX_ENTRIES.invokeExact(mapPtr(map), entries));
        if (rc < 0) throw BpfException.errno("cannot size map " + map, rc);
    }

    public void setAutoload(String program, boolean autoload) {
        int rc = callInt(() -> (int) Libbpf.PROGRAM_SET_AUTOLOAD.invokeExact(programPtr(program), autoload));
        if (rc < 0) throw BpfException.errno("cannot change autoload of " + program, rc);
    }

    /** Loads every program through the verifier; a failure carries libbpf's log (and the verifier's). */
    public void load() {
        LibbpfLog.drain();
        int rc = callInt(() -> (int) Libbpf.OBJECT_LOAD.invokeExact(obj));
        if (rc < 0) throw withLog(BpfException.errno("the kernel refused the BPF programs", rc));
    }

    /** Attaches a tracepoint/tp_btf/raw_tp/uprobe program using its section name. */
    public void attach(String program) {
        MemorySegment prog = programPtr(program);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            MemorySegment link = (MemorySegment) Libbpf.PROGRAM_ATTACH.invokeExact(state, prog);
            if (link.equals(MemorySegment.NULL))
                throw withLog(BpfException.errno("cannot attach " + program, Native.errno(state)));
            links.add(link);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /** Attaches a cgroup program to a cgroup v2 directory (usually the root, which covers every process). */
    public void attachCgroup(String program, Path cgroupDir) {
        MemorySegment prog = programPtr(program);
        try (var dir = Libc.openDirectory(cgroupDir); Arena a = Arena.ofConfined()) {
            MemorySegment state = Native.newCallState(a);
            MemorySegment link = (MemorySegment) Libbpf.PROGRAM_ATTACH_CGROUP.invokeExact(state, prog, dir.fd());
            if (link.equals(MemorySegment.NULL))
                throw withLog(BpfException.errno("cannot attach " + program + " to " + cgroupDir, Native.errno(state)));
            links.add(link);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    /**
     * Attaches a uprobe/uretprobe to a function of a shared library, in every
     * process that maps it. libbpf resolves the symbol from the ELF file.
     */
    public void attachUprobe(String program, Path library, String function, boolean retprobe) {
        MemorySegment prog = programPtr(program);
        try (Arena a = Arena.ofConfined()) {
            // struct bpf_uprobe_opts { size_t sz; size_t ref_ctr_offset; __u64 bpf_cookie; bool retprobe; const char *func_name; }
            MemorySegment opts = a.allocate(40, 8);
            opts.set(ValueLayout.JAVA_LONG, 0, 40);
            opts.set(ValueLayout.JAVA_BYTE, 24, (byte) (retprobe ? 1 : 0));
            opts.set(ValueLayout.ADDRESS, 32, a.allocateFrom(function));
            MemorySegment state = Native.newCallState(a);
            MemorySegment link = (MemorySegment) Libbpf.PROGRAM_ATTACH_UPROBE_OPTS.invokeExact(state, prog, -1,
                    a.allocateFrom(library.toString()), 0L, opts);
            if (link.equals(MemorySegment.NULL))
                throw withLog(BpfException.errno("cannot attach " + program + " to " + library + ":" + function,
                        Native.errno(state)));
            links.add(link);
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    public BpfMap map(String name) {
        MemorySegment m = mapPtr(name);
        int fd = callInt(() -> (int) Libbpf.MAP_FD.invokeExact(m));
        if (fd < 0) throw BpfException.errno("map " + name + " has no fd (object not loaded?)", fd);
        return new BpfMap(name, fd);
    }

    /** The object's own BTF, for checking Java layouts against the C structs. */
    public Btf btf() {
        MemorySegment b = call(() -> (MemorySegment) Libbpf.OBJECT_BTF.invokeExact(obj));
        if (b.equals(MemorySegment.NULL)) throw new BpfException("the BPF object carries no BTF (built without -g?)");
        return new Btf(b);
    }

    private MemorySegment programPtr(String name) {
        MemorySegment n = arena.allocateFrom(name);
        MemorySegment p = call(() -> (MemorySegment) Libbpf.FIND_PROGRAM.invokeExact(obj, n));
        if (p.equals(MemorySegment.NULL)) throw new BpfException("the BPF object has no program " + name);
        return p;
    }

    private MemorySegment mapPtr(String name) {
        MemorySegment n = arena.allocateFrom(name);
        MemorySegment p = call(() -> (MemorySegment) Libbpf.FIND_MAP.invokeExact(obj, n));
        if (p.equals(MemorySegment.NULL)) throw new BpfException("the BPF object has no map " + name);
        return p;
    }

    private static BpfException withLog(BpfException e) {
        List<String> log = LibbpfLog.drain();
        if (log.isEmpty()) return e;
        int from = Math.max(0, log.size() - 60);
        return new BpfException(e.getMessage() + "\nlibbpf said:\n  " + String.join("\n  ", log.subList(from, log.size())), e);
    }

    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        for (MemorySegment link : links) callInt(() -> (int) Libbpf.LINK_DESTROY.invokeExact(link));
        links.clear();
        call(() -> {
            Libbpf.OBJECT_CLOSE.invokeExact(obj);
            return null;
        });
        arena.close();
    }

    /** The libbpf in use, as "major.minor" (for {@code peekd doctor}); throws when libbpf cannot be loaded. */
    public static String libbpfVersion() {
        int major = callInt(() -> (int) Libbpf.MAJOR_VERSION.invokeExact());
        int minor = callInt(() -> (int) Libbpf.MINOR_VERSION.invokeExact());
        return major + "." + minor;
    }

    /** Number of possible CPUs: the stride of per-CPU map values. */
    public static int possibleCpus() {
        int n = callInt(() -> (int) Libbpf.NUM_POSSIBLE_CPUS.invokeExact());
        if (n <= 0) throw BpfException.errno("cannot count possible CPUs", n);
        return n;
    }

    interface NativeCall<T> {
        T call() throws Throwable;
    }

    interface IntCall {
        int call() throws Throwable;
    }

    static <T> T call(NativeCall<T> c) {
        try {
            return c.call();
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    static int callInt(IntCall c) {
        try {
            return c.call();
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}

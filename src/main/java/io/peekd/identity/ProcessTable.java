package io.peekd.identity;

import io.peekd.capture.FlowKey;
import io.peekd.capture.KernelEvent;
import io.peekd.flow.Identity;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Who a process instance is, from every source we have: live {@code /proc}
 * first, then the kernel's exec events, then the parent (a fork that did not
 * exec runs its parent's binary), then the comm a new-flow event carried.
 *
 * <p>Records are keyed by (tgid, start time in /proc ticks): the kernel's
 * start time is in ns but /proc only shows 10 ms ticks, and a pid cannot be
 * reused within one tick. Within a record, exec generations are told apart by
 * the executable's inode, as the flow key does.
 *
 * <p>Thread-safe. Event methods only touch memory, so they are cheap on the
 * ring-buffer thread; {@link #identify} may read /proc, but never while
 * holding the lock.
 */
public final class ProcessTable {

    public static final Duration DEFAULT_EXIT_GRACE = Duration.ofMinutes(5);
    public static final int DEFAULT_MAX_PROCESSES = 32_768;
    static final int MAX_GENERATIONS = 8;
    /** How far up a chain of fork-without-exec ancestors we look for the binary. */
    static final int MAX_FORK_DEPTH = 4;

    private final ProcFs proc;
    private final Users users;
    private final CgroupIds cgroupIds;
    private final InstantSource clock;
    private final Duration exitGrace;
    private final int maxProcesses;

    private final Object lock = new Object();
    private final LinkedHashMap<Inst, Proc> procs;
    private final ArrayDeque<Exited> exits = new ArrayDeque<>();

    public ProcessTable(ProcFs proc, Users users, CgroupIds cgroupIds, InstantSource clock,
                        Duration exitGrace, int maxProcesses) {
        if (exitGrace.isNegative()) throw new IllegalArgumentException("exit grace must not be negative: " + exitGrace);
        if (maxProcesses < 1) throw new IllegalArgumentException("max processes must be positive: " + maxProcesses);
        this.proc = proc;
        this.users = users;
        this.cgroupIds = cgroupIds;
        this.clock = clock;
        this.exitGrace = exitGrace;
        this.maxProcesses = maxProcesses;
        // Access order: when the bound is hit, the process nobody asked about for longest goes,
        // which also clears records whose exit event was lost.
        this.procs = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<Inst, Proc> eldest) {
                return size() > maxProcesses;
            }
        };
    }

    /** Real /proc, /etc/passwd and cgroup2 mount, system clock, default grace and bound. */
    public static ProcessTable withDefaults() {
        return new ProcessTable(new ProcFs(), new Users(), CgroupIds.fromMounts(), InstantSource.system(),
                DEFAULT_EXIT_GRACE, DEFAULT_MAX_PROCESSES);
    }

    // ---- events (ring-buffer thread) ----

    public void onExec(KernelEvent.Exec e) {
        Gen g = new Gen(e.exeIno(), e.exeDev(), execPath(e), false, e.comm(), argv(e.args()), e.tsNs(), false);
        synchronized (lock) {
            Proc p = procs.computeIfAbsent(Inst.of(e.tgid(), e.startNs()), i -> new Proc());
            p.merge(g);
            p.setParent(e.ppid(), e.pstartNs());
            if (e.cgroupId() != 0) p.cgroupId = e.cgroupId();
            p.readProc = false; // a new generation: /proc, if still alive, now shows it
            p.cache.clear();
        }
    }

    public void onNewFlow(KernelEvent.NewFlow e) {
        FlowKey k = e.key();
        synchronized (lock) {
            Proc p = procs.computeIfAbsent(Inst.of(k.tgid(), k.startNs()), i -> new Proc());
            if (e.comm() != null && !e.comm().isEmpty()) p.flowComm = e.comm();
            if (p.setParent(e.ppid(), e.pstartNs())) p.cache.clear();
            if (e.cgroupId() != 0 && p.cgroupId == 0) p.cgroupId = e.cgroupId();
        }
    }

    public void onExit(KernelEvent.Exit e) {
        Instant now = clock.instant();
        synchronized (lock) {
            Inst i = Inst.of(e.tgid(), e.startNs());
            Proc p = procs.get(i);
            if (p != null && p.exitedAt == null) {
                p.exitedAt = now;
                exits.add(new Exited(i, now));
            }
            evictExpired(now);
            // A fork storm can exit more processes within the grace period than the table holds;
            // then the oldest exits go early rather than memory growing.
            while (exits.size() > maxProcesses) {
                Exited x = exits.poll();
                Proc q = procs.get(x.inst());
                if (q != null && x.at().equals(q.exitedAt)) procs.remove(x.inst());
            }
        }
    }

    /** Drops records of processes that exited more than the grace period ago; returns how many. */
    public int evictExpired() {
        Instant now = clock.instant();
        synchronized (lock) {
            return evictExpired(now);
        }
    }

    private int evictExpired(Instant now) {
        int n = 0;
        for (Exited x; (x = exits.peek()) != null && !x.at().plus(exitGrace).isAfter(now); ) {
            exits.poll();
            Proc p = procs.get(x.inst());
            if (p != null && x.at().equals(p.exitedAt)) {
                procs.remove(x.inst());
                n++;
            }
        }
        return n;
    }

    /** Number of process records held (for metrics). */
    public int size() {
        synchronized (lock) {
            return procs.size();
        }
    }

    /** Learns every live process, so that flows of processes that exit early still have a name. */
    public int seedFromProc() {
        int n = 0;
        for (int pid : proc.pids()) {
            Optional<ProcSnapshot> s = proc.snapshot(pid, -1);
            if (s.isPresent()) {
                synchronized (lock) {
                    learn(new Inst(pid, s.get().startTicks()), s.get());
                }
                n++;
            }
        }
        return n;
    }

    // ---- identification (drain thread) ----

    public Identity identify(FlowKey k) {
        Inst self = Inst.of(k.tgid(), k.startNs());
        CacheKey ck = new CacheKey(k.exeIno(), k.uid());
        synchronized (lock) {
            evictExpired(clock.instant());
            Proc p = procs.get(self);
            Identity cached = p == null ? null : p.cache.get(ck);
            if (cached != null) return cached;
        }
        refresh(self, k.exeIno());
        View v = view(self);

        // The binary: our own generation, else that of an ancestor we forked from without exec.
        Gen own = v.gen(k.exeIno());
        boolean inherited = false;
        Inst cur = self;
        View cv = v;
        for (int depth = 0; own == null && k.exeIno() != 0 && depth < MAX_FORK_DEPTH; depth++) {
            // An ancestor known to run some other binary cannot have handed us this one.
            if (depth > 0 && !cv.gens().isEmpty()) break;
            Inst parent = parentOf(cur, cv);
            if (parent == null) break;
            refresh(parent, k.exeIno());
            cv = view(parent);
            Gen g = cv.gen(k.exeIno());
            if (g != null && g.exeIno() == k.exeIno()) {
                own = g;
                inherited = true;
            }
            cur = parent;
        }

        String name;
        if (own != null && !inherited) name = first(own.comm(), v.flowComm());
        else name = first(v.comm(), v.flowComm(), own == null ? null : own.comm());

        // The parent as it was when this process started.
        Inst pi = parentOf(self, v);
        Gen pg = null;
        String pname = null;
        if (pi != null) {
            refresh(pi, 0);
            View pv = view(pi);
            pg = pv.genAt(k.startNs());
            pname = first(pg == null ? null : pg.comm(), pv.comm(), pv.flowComm());
        }

        String cgroup = v.cgroup();
        if (cgroup == null && v.cgroupId() != 0 && cgroupIds != null) {
            cgroup = cgroupIds.path(v.cgroupId()).orElse(null);
        }
        String container = cgroup == null ? null : Cgroups.parse(cgroup).label();

        Identity id = new Identity(
                own == null ? null : own.exe(), name, own == null ? null : cmdline(own.argv()), null, k.tgid(),
                pg == null ? null : pg.exe(), pname, pg == null ? null : cmdline(pg.argv()), null, Math.max(v.ppid(), 0),
                k.uid(), users.name(k.uid()), cgroup, container);
        if (own != null) {
            // Weak answers are not cached: an exec event may still arrive and tell us more.
            synchronized (lock) {
                Proc p = procs.get(self);
                if (p != null) {
                    if (p.cache.size() >= 2 * MAX_GENERATIONS) p.cache.clear();
                    p.cache.put(ck, id);
                }
            }
        }
        return id;
    }

    /**
     * The parent's executable as it was when this process started, with the inode
     * and device the kernel (or /proc) gave for it: what the parent's hash is
     * computed from. Null when the parent or its binary is unknown. Call after
     * {@link #identify}, which has already read what /proc could tell.
     */
    public ExeRef parentExe(FlowKey k) {
        Inst self = Inst.of(k.tgid(), k.startNs());
        Inst pi = parentOf(self, view(self));
        if (pi == null) return null;
        Gen pg = view(pi).genAt(k.startNs());
        if (pg == null || pg.exe() == null) return null;
        return new ExeRef(pi.tgid(), pi.ticks(), pg.exe(), Math.max(pg.exeIno(), 0), pg.exeDev());
    }

    /**
     * An executable as one process instance runs it.
     *
     * @param startTicks the process's start in /proc ticks
     * @param ino        0 when unknown
     * @param kernelDev  {@code s_dev} encoding, -1 when unknown
     */
    public record ExeRef(int pid, long startTicks, String path, long ino, long kernelDev) {
    }

    /**
     * Reads /proc for a process if it still lives (checked by start time) and we
     * lack what was asked for; a process found gone is not read again.
     */
    private void refresh(Inst i, long wantIno) {
        synchronized (lock) {
            Proc p = procs.get(i);
            if (p != null && (p.gone || p.exitedAt != null
                    || (p.readProc && (p.has(wantIno) || p.missIno == wantIno)))) return;
        }
        Optional<ProcSnapshot> s = proc.snapshot(i.tgid(), i.ticks());
        synchronized (lock) {
            if (s.isPresent()) {
                Proc p = learn(i, s.get());
                if (!p.has(wantIno)) p.missIno = wantIno; // asked and not there: do not ask /proc again
            } else {
                procs.computeIfAbsent(i, x -> new Proc()).gone = true;
            }
        }
    }

    /** The parent instance; when only /proc told us the ppid, its start time is read from /proc. */
    private Inst parentOf(Inst child, View v) {
        if (v.ppid() <= 0) return null;
        if (v.pticks() >= 0) return new Inst(v.ppid(), v.pticks());
        Optional<ProcFs.Stat> st = proc.stat(v.ppid());
        // A "parent" younger than the child is a reused pid, not the parent.
        if (st.isEmpty() || st.get().startTicks() > child.ticks()) return null;
        synchronized (lock) {
            Proc p = procs.get(child);
            if (p != null && p.ppid == v.ppid() && p.pticks < 0) p.pticks = st.get().startTicks();
        }
        return new Inst(v.ppid(), st.get().startTicks());
    }

    private Proc learn(Inst i, ProcSnapshot s) {
        Proc p = procs.computeIfAbsent(i, x -> new Proc());
        p.readProc = true;
        p.comm = s.comm();
        if (s.cgroup() != null) p.cgroup = s.cgroup();
        if (p.ppid < 0) p.ppid = s.ppid(); // events name the parent at exec/flow time, /proc only the current one
        ProcFs.Exe exe = s.exe();
        if (exe != null) {
            List<String> argv = s.cmdline() == null ? null : s.cmdline().argv();
            // /proc gives st_dev in user-space encoding; events carry the kernel's s_dev.
            long dev = exe.dev() < 0 ? -1 : DevNumbers.toKernel(exe.dev());
            p.merge(new Gen(exe.ino(), dev, exe.path(), exe.deleted(), s.comm(), argv, 0, true));
        }
        return p;
    }

    /** A copy of what we know; an empty view for a process never heard of. */
    private View view(Inst i) {
        synchronized (lock) {
            Proc p = procs.get(i);
            if (p == null) return new View(List.of(), -1, -1, null, null, null, 0);
            return new View(List.copyOf(p.gens), p.ppid, p.pticks, p.comm, p.flowComm, p.cgroup, p.cgroupId);
        }
    }

    // ---- helpers ----

    static String execPath(KernelEvent.Exec e) {
        String path = e.exePath();
        String file = e.filename();
        // A relative execve name (./tool) is placed with the working directory the kernel saw then.
        if (file != null && !file.isEmpty() && !file.startsWith("/") && e.cwd() != null)
            file = java.nio.file.Path.of(e.cwd()).resolve(file).normalize().toString();
        boolean fileUsable = file != null && file.startsWith("/");
        if ((path == null || path.isEmpty() || e.pathTruncated()) && fileUsable) return file;
        return path == null || path.isEmpty() ? file : path;
    }

    /**
     * Exec args arrive NUL-separated; a decoder that already joined them gives one
     * display string. Trailing NULs (buffer padding) are dropped.
     */
    static List<String> argv(String args) {
        if (args == null || args.isEmpty()) return null;
        if (args.indexOf('\0') < 0) return List.of(args);
        int end = args.length();
        while (end > 0 && args.charAt(end - 1) == '\0') end--;
        return end == 0 ? List.of() : List.of(args.substring(0, end).split("\0", -1));
    }

    private static String first(String... candidates) {
        for (String c : candidates) {
            if (c != null && !c.isEmpty()) return c;
        }
        return null;
    }

    private static String cmdline(List<String> argv) {
        return argv == null ? null : String.join(" ", argv);
    }

    /** A process instance as /proc can name it. */
    record Inst(int tgid, long ticks) {
        static Inst of(int tgid, long startNs) {
            return new Inst(tgid, ProcFs.ticks(startNs));
        }
    }

    private record Exited(Inst inst, Instant at) {
    }

    /** The uid is part of it because setuid keeps the process and the binary but changes the answer. */
    private record CacheKey(long exeIno, int uid) {
    }

    /**
     * One exec generation.
     *
     * @param tsNs     boot-clock time of the exec, 0 when learned from /proc (unknown)
     * @param fromProc the path and argv came from /proc
     */
    record Gen(long exeIno, long exeDev, String exe, boolean deleted, String comm, List<String> argv,
               long tsNs, boolean fromProc) {
    }

    /** Immutable copy of a record, taken under the lock and used outside it. */
    private record View(List<Gen> gens, int ppid, long pticks, String comm, String flowComm,
                        String cgroup, long cgroupId) {

        /** The generation running this inode; 0 means the kernel did not know, so take the newest. */
        Gen gen(long ino) {
            Gen unknownIno = null;
            for (int j = gens.size() - 1; j >= 0; j--) {
                Gen g = gens.get(j);
                if (ino == 0 || g.exeIno() == ino) return g;
                if (g.exeIno() < 0 && unknownIno == null) unknownIno = g;
            }
            return unknownIno;
        }

        /** The generation that was running at boot-clock time {@code ns} (the newest not started later). */
        Gen genAt(long ns) {
            for (int j = gens.size() - 1; j >= 0; j--) {
                if (gens.get(j).tsNs() <= ns) return gens.get(j);
            }
            return gens.isEmpty() ? null : gens.getLast();
        }
    }

    /** Mutable record; touched only under the table's lock. */
    private static final class Proc {
        final ArrayList<Gen> gens = new ArrayList<>(2);
        final Map<CacheKey, Identity> cache = new HashMap<>(2);
        int ppid = -1;
        long pticks = -1;
        boolean parentFromEvent;
        String comm;      // leader's comm from /proc
        String flowComm;  // comm of the thread that opened a flow
        String cgroup;
        long cgroupId;
        boolean readProc; // /proc was read since the last exec we heard of
        boolean gone;     // /proc no longer has this instance: never read it again
        long missIno = -1; // an inode /proc was asked for and did not show
        Instant exitedAt;

        boolean has(long ino) {
            if (ino == 0) return !gens.isEmpty();
            for (Gen g : gens) {
                if (g.exeIno() == ino) return true;
            }
            return false;
        }

        /** Same inode: the same generation, so combine, /proc's text winning and the exec time kept. */
        void merge(Gen g) {
            for (int j = 0; j < gens.size(); j++) {
                Gen old = gens.get(j);
                if (old.exeIno() == g.exeIno() || (old.exeIno() < 0 && g.fromProc())) {
                    Gen text = g.fromProc() || !old.fromProc() ? g : old;
                    // The kernel's device number wins over /proc's (they differ on btrfs and overlayfs).
                    long dev = g.fromProc() ? (old.exeDev() >= 0 ? old.exeDev() : g.exeDev())
                            : (g.exeDev() >= 0 ? g.exeDev() : old.exeDev());
                    gens.set(j, new Gen(g.exeIno(), dev, text.exe(),
                            text.deleted(), text.comm(), text.argv() != null ? text.argv() : old.argv(),
                            Math.max(old.tsNs(), g.tsNs()), old.fromProc() || g.fromProc()));
                    return;
                }
            }
            if (gens.size() >= MAX_GENERATIONS) gens.removeFirst();
            gens.add(g);
        }

        /** Returns true when this changed what we knew. */
        boolean setParent(int ppid, long pstartNs) {
            if (ppid <= 0 && pstartNs == 0) return false;
            long t = ProcFs.ticks(pstartNs);
            boolean changed = !parentFromEvent || this.ppid != ppid || this.pticks != t;
            this.ppid = ppid;
            this.pticks = t;
            parentFromEvent = true;
            return changed;
        }
    }
}

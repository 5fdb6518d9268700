package io.peekd.identity;

import io.peekd.bpf.NativeFile;
import io.peekd.bpf.SysError;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * sha256 of the executables (and scripts) that processes run, computed off the
 * capture path.
 *
 * <p>Each file is opened once, through {@code /proc/<pid>/exe} while the
 * process lives (at exec time for short-lived ones), or through its path when
 * the process is already gone. Before a descriptor is trusted its inode (and
 * device, see {@code identity.st_dev_mask}) must equal what the kernel
 * reported for that exec; the hash is then read from the held descriptor, so a
 * file replaced by rename after exec still hashes as it ran.
 *
 * <p>Results are cached per file (device, inode) and per <em>generation</em>:
 * a write to a held file (seen through fanotify, or as a changed mtime or size
 * when the file is next met) starts a new generation, and only processes that
 * exec'd the old content keep the old hash. Held descriptors are bounded by
 * {@code identity.fd_cache_size}, least recently used first out; hashing runs
 * on {@code identity.hash_threads} threads.
 *
 * <p>Thread-safe. {@link #onExec} opens files, so it runs on a thread of its
 * own (see ExeIdentity), never on the ring-buffer thread; {@link #resolve}
 * and {@link #prefetch} never block on I/O.
 */
public final class ExeHashes implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd.identity");
    private static final int RESULTS_PER_FILE = 4;
    static final int MAX_BINDINGS = 65_536;
    private static final int MAX_QUEUE = 65_536;

    /**
     * @param stDevMask   explicit mask for device comparison; empty = automatic (off on btrfs and overlayfs)
     * @param fdCacheSize most files held open
     * @param threads     hashing threads
     */
    public record Settings(OptionalLong stDevMask, int fdCacheSize, int threads) {
    }

    /**
     * One process instance running one exec generation, or a script file.
     *
     * @param pid        the process, or 0 for a file known only by path (scripts)
     * @param startTicks its start time in /proc ticks, or -1 when unknown
     * @param kernelDev  the device as the kernel reported it ({@code s_dev}), or -1
     * @param ino        the inode the kernel reported, or 0 when unknown
     * @param path       where the file was (is) found: fallback when the process is gone
     */
    public record Request(int pid, long startTicks, long kernelDev, long ino, String path) {
    }

    private record Subject(int pid, long ticks, long ino, boolean script, String path) {
    }

    /** One open file and what we know of its generations. Guarded by {@code lock}. */
    private static final class Entry {
        final FileId key;
        NativeFile file;
        NativeFile.Stat stat;
        String path;
        int gen;
        int queuedGen = -1;
        int busy;           // workers reading the descriptor: it is closed only when this is 0
        boolean evicted;
        final LinkedHashMap<Integer, HashResult> results = new LinkedHashMap<>();
        final LinkedHashMap<Integer, PackageStatus> packages = new LinkedHashMap<>();
        int pkgQueuedGen = -1;

        Entry(FileId key) {
            this.key = key;
        }
    }

    /** What a subject runs: found by a bind job, or at exec time. Guarded by {@code lock}. */
    private static final class Binding {
        FileId key;
        int gen;
        HashResult result;
        String scriptPath;   // script subjects: the absolute path, once known
        boolean noScript;    // script subjects: the interpreter runs no file
        boolean opening;     // script subjects: an open of scriptPath was started (by the opener or a job)
    }

    /** A script subject's answer: its path (null when there is none) and hash (null while pending). */
    public record Script(String path, HashResult hash, boolean done) {
        static final Script NONE = new Script(null, null, true);
    }

    private final Settings settings;
    private final ProcFs proc;
    private final ExeOpener opener;
    private final PackageVerifier packages;
    private final Consumer<String> errors;
    private final Object lock = new Object();
    private final LinkedHashMap<FileId, Entry> entries = new LinkedHashMap<>(256, 0.75f, true);
    private final LinkedHashMap<Subject, Binding> bindings = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Subject, Binding> eldest) {
            return size() > MAX_BINDINGS;
        }
    };
    private final LinkedHashMap<String, Boolean> logged = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > 4096;
        }
    };
    private final ThreadPoolExecutor pool;
    private final LinkedBlockingQueue<PkgJob> pkgQueue = new LinkedBlockingQueue<>();
    private final Thread pkgThread;
    private final FileWatch watch;
    private volatile boolean running = true;

    private final AtomicLong filesHashed = new AtomicLong(), bytesHashed = new AtomicLong(),
            failures = new AtomicLong(), invalidations = new AtomicLong(), nanosHashing = new AtomicLong();

    public ExeHashes(Settings settings, ProcFs proc, PackageVerifier packages, Consumer<String> errors) {
        this.settings = settings;
        this.proc = proc;
        this.opener = new ExeOpener(proc, settings.stDevMask());
        this.packages = packages;
        this.errors = errors;
        AtomicInteger n = new AtomicInteger();
        this.pool = new ThreadPoolExecutor(settings.threads(), settings.threads(), 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(MAX_QUEUE),
                r -> Thread.ofPlatform().daemon().name("peekd-hash-" + n.incrementAndGet()).unstarted(r));
        pool.allowCoreThreadTimeOut(true);
        this.pkgThread = Thread.ofPlatform().daemon().name("peekd-packages").unstarted(this::packageLoop);
        pkgThread.start();
        this.watch = new FileWatch(this::changed, this::recheckAll);
    }

    /** Whether writes to held files are reported by fanotify (false: only mtime and size checks). */
    public boolean watching() {
        return watch.active();
    }

    // ---- exec time (opener thread) ----

    /**
     * Ring-buffer thread, no I/O: which script an interpreter was started with,
     * from the exec's argv and the working directory the kernel reported. Noted
     * before the opener thread gets to the exec, so that a row built while that
     * thread is behind (or after it dropped the exec) still names the script of
     * an interpreter that is gone; the script itself is opened by path.
     */
    public void noteExec(int pid, long startNs, long ino, String path, List<String> argv, String cwd) {
        if (!running || ino <= 0 || !Scripts.isInterpreter(path)) return;
        String script = Scripts.scriptOf(path, argv);
        String abs = script == null ? null : Scripts.absolute(script, cwd);
        if (script != null && abs == null) return; // relative with no cwd: /proc may still tell
        Subject ss = new Subject(pid, ProcFs.ticks(startNs), ino, true, null);
        synchronized (lock) {
            Binding b = bindings.computeIfAbsent(ss, x -> new Binding());
            if (b.result != null || b.key != null) return;
            // The kernel's argv and cwd outrank a /proc look that came too late and found nothing.
            b.noScript = abs == null;
            b.scriptPath = abs;
        }
    }

    /**
     * Opens the new program through {@code /proc/<pid>/exe} right away, so that a
     * process exiting within milliseconds is still hashed from what it ran. The
     * hash itself is computed later, when a flow (or every_exe) asks for it.
     *
     * @param argv the exec's argv (for interpreters: which script), or null
     * @param cwd the working directory the kernel saw at exec, or null when unknown
     * @param hashNow queue the hash at once (every_exe mode)
     */
    public void onExec(int pid, long startNs, long kernelDev, long ino, String path, List<String> argv, String cwd,
                       boolean hashNow) {
        if (!running || ino <= 0) return;
        long ticks = ProcFs.ticks(startNs);
        Request r = new Request(pid, ticks, kernelDev, ino, path);
        Subject s = new Subject(pid, ticks, ino, false, null);
        try {
            NativeFile f = NativeFile.open(proc.root().resolve(pid + "/exe"));
            try {
                NativeFile.Stat st = f.stat();
                if (!opener.matches(r, st, f)) {
                    f.close(); // already another exec, or another process: the bind job sorts it out
                } else {
                    bindOpened(s, f, st, path, hashNow);
                }
            } catch (SysError | RuntimeException e) {
                f.close();
            }
        } catch (SysError e) {
            // gone already: the bind job falls back to the path and checks the inode
        }
        if (Scripts.isInterpreter(path)) {
            String script = Scripts.scriptOf(path, argv);
            Subject ss = new Subject(pid, ticks, ino, true, null);
            String noted;
            synchronized (lock) {
                Binding b = bindings.get(ss);
                noted = b == null || b.key != null || b.result != null ? null : b.scriptPath;
            }
            if (noted != null) {
                openScript(ss, noted, hashNow);
            } else if (script == null) {
                synchronized (lock) {
                    bindings.computeIfAbsent(ss, x -> new Binding()).noScript = true;
                }
            } else {
                // The kernel's cwd first: `bash x.sh` may be gone before /proc/<pid>/cwd is read.
                if (cwd == null && !script.startsWith("/")) {
                    try {
                        cwd = io.peekd.bpf.Libc.readlink(proc.root().resolve(pid + "/cwd"));
                    } catch (java.io.IOException | RuntimeException e) {
                        // gone: a relative script path cannot be placed
                    }
                }
                String abs = Scripts.absolute(script, cwd);
                if (abs != null) openScript(ss, abs, hashNow);
            }
        }
    }

    private void openScript(Subject ss, String abs, boolean hashNow) {
        synchronized (lock) {
            Binding b = bindings.computeIfAbsent(ss, x -> new Binding());
            b.scriptPath = abs;
            b.opening = true;
        }
        try {
            NativeFile f = NativeFile.open(Path.of(abs));
            try {
                NativeFile.Stat st = f.stat();
                if (!st.isRegular()) {
                    f.close();
                    fail(ss, abs, "not a regular file");
                    return;
                }
                bindOpened(ss, f, st, abs, hashNow);
            } catch (SysError | RuntimeException e) {
                f.close();
                fail(ss, abs, ExeOpener.reason(e));
            }
        } catch (SysError e) {
            fail(ss, abs, ExeOpener.reason(e));
        }
    }

    /**
     * A flow just started (ring-buffer thread): if its process was opened at exec
     * time, start hashing now so the hash is ready when the window closes.
     * Never opens anything itself.
     */
    public void prefetch(int pid, long startNs, long ino) {
        Subject s = new Subject(pid, ProcFs.ticks(startNs), ino, false, null);
        synchronized (lock) {
            Binding b = bindings.get(s);
            if (b == null || b.result != null || b.key == null) return;
            Entry e = entries.get(b.key);
            if (e != null && e.gen == b.gen) queue(e);
        }
    }

    // ---- resolution (drain thread) ----

    /** The hash of what {@code r} runs, or null while it is being computed (a job is queued). */
    public HashResult resolve(Request r) {
        if (r == null) return null;
        Subject s = new Subject(r.pid(), r.startTicks(), r.ino(), false, null);
        synchronized (lock) {
            Binding b = bindings.get(s);
            if (b == null) {
                b = new Binding();
                bindings.put(s, b);
                bindLater(s, () -> bindJob(s, r));
                return null;
            }
            return answer(s, b, r);
        }
    }

    /**
     * The script that an interpreter process runs, with its hash. Processes that
     * started before the daemon (no exec event) are read from /proc.
     */
    public Script resolveScript(Request exe) {
        if (exe == null || !Scripts.isInterpreter(exe.path())) return Script.NONE;
        Subject s = new Subject(exe.pid(), exe.startTicks(), exe.ino(), true, null);
        synchronized (lock) {
            Binding b = bindings.get(s);
            if (b == null) {
                b = new Binding();
                bindings.put(s, b);
                bindLater(s, () -> scriptBindJob(s, exe));
                return new Script(null, null, false);
            }
            if (b.noScript) return Script.NONE;
            if (b.scriptPath == null) return b.result != null ? Script.NONE : new Script(null, null, false);
            if (b.key == null && b.result == null && !b.opening) {
                // Noted at exec, and the opener thread has not opened it (behind, or it dropped the exec).
                b.opening = true;
                String path = b.scriptPath;
                bindLater(s, () -> openScript(s, path, true));
                return new Script(path, null, false);
            }
            HashResult h = answer(s, b, new Request(0, -1, -1, 0, b.scriptPath));
            return new Script(b.scriptPath, h, h != null);
        }
    }

    private HashResult answer(Subject s, Binding b, Request r) {
        if (b.result != null) return b.result;
        if (b.key == null) return null; // bind job under way
        Entry e = entries.get(b.key);
        if (e == null) { // evicted before it was hashed: open it again
            b.key = null;
            bindLater(s, () -> {
                if (s.script()) openScript(s, r.path(), true);
                else bindJob(s, r);
            });
            return null;
        }
        HashResult res = e.results.get(b.gen);
        if (res != null) {
            b.result = res;
            return res;
        }
        if (e.gen != b.gen) {
            b.result = new HashResult.Failed("modified before it could be hashed");
            note(e.path, b.result);
            return b.result;
        }
        queue(e);
        return null;
    }

    // ---- package checks ----

    private record PkgJob(Entry entry, int gen, String sha256) {
    }

    /**
     * What the package database says about the content {@code r} runs (or, with
     * {@code script}, about its script): null while unknown, and then a check is
     * queued. Only asked for new executables and new hashes.
     */
    public PackageStatus packageStatus(Request r, boolean script) {
        if (r == null) return null;
        Subject s = new Subject(r.pid(), r.startTicks(), r.ino(), script, null);
        Entry e;
        int gen;
        String path;
        synchronized (lock) {
            Binding b = bindings.get(s);
            if (b == null || b.key == null || !(b.result instanceof HashResult.Hashed)) return null;
            e = entries.get(b.key);
            if (e == null) return new PackageStatus.Unverifiable("?", "?", "file no longer held");
            gen = b.gen;
            PackageStatus st = e.packages.get(gen);
            if (st != null) return st;
            path = e.path;
        }
        // Most new executables live where no package put anything (builds, downloads, /tmp):
        // that needs no dpkg-query, and must not wait behind one. (Asked outside the lock:
        // the first answer reads dpkg's file lists.)
        if (packages.surelyUnowned(path)) {
            synchronized (lock) {
                e.packages.putIfAbsent(gen, PackageStatus.UNOWNED);
            }
            return PackageStatus.UNOWNED;
        }
        synchronized (lock) {
            PackageStatus st = e.packages.get(gen);
            if (st != null) return st;
            HashResult res = e.results.get(gen);
            if (e.pkgQueuedGen != gen && e.file != null && running && res instanceof HashResult.Hashed h) {
                e.pkgQueuedGen = gen;
                e.busy++;
                pkgQueue.add(new PkgJob(e, gen, h.sha256()));
            }
            return null;
        }
    }

    /** Batches queued checks so that one dpkg-query serves many files. */
    private void packageLoop() {
        packages.surelyUnowned("/"); // read dpkg's file lists now, not when the first row waits for them
        while (running) {
            List<PkgJob> batch = new ArrayList<>();
            try {
                PkgJob first = pkgQueue.poll(250, TimeUnit.MILLISECONDS);
                if (first == null) continue;
                batch.add(first);
                Thread.sleep(20); // let the rest of a window's new executables arrive
                pkgQueue.drainTo(batch, 255);
            } catch (InterruptedException e) {
                batch.forEach(this::unbusy);
                return;
            }
            List<PackageVerifier.Check> checks = new ArrayList<>(batch.size());
            List<PkgJob> asked = new ArrayList<>(batch.size());
            for (PkgJob j : batch) {
                NativeFile f;
                synchronized (lock) {
                    f = j.entry().file;
                }
                if (f == null) {
                    store(j, new PackageStatus.Unverifiable("?", "?", "file no longer held"));
                    continue;
                }
                checks.add(new PackageVerifier.Check(j.entry().path, f, j.sha256()));
                asked.add(j);
            }
            List<PackageStatus> answers;
            try {
                answers = packages.verifyAll(checks);
            } catch (RuntimeException e) {
                answers = new ArrayList<>();
                for (int i = 0; i < checks.size(); i++) answers.add(new PackageStatus.Unverifiable("?", "?", e.toString()));
            }
            for (int i = 0; i < asked.size(); i++) store(asked.get(i), answers.get(i));
        }
        for (PkgJob j; (j = pkgQueue.poll()) != null; ) unbusy(j);
    }

    private void store(PkgJob j, PackageStatus st) {
        Entry e = j.entry();
        synchronized (lock) {
            e.packages.put(j.gen(), st);
            while (e.packages.size() > RESULTS_PER_FILE) e.packages.remove(e.packages.firstEntry().getKey());
            if (e.pkgQueuedGen == j.gen()) e.pkgQueuedGen = -1;
        }
        unbusy(j);
    }

    private void unbusy(PkgJob j) {
        Entry e = j.entry();
        NativeFile close = null;
        synchronized (lock) {
            e.busy--;
            if (e.evicted && e.busy == 0 && e.file != null) {
                close = e.file;
                e.file = null;
            }
        }
        if (close != null) release(close);
    }

    // ---- jobs (hash threads) ----

    private void bindJob(Subject s, Request r) {
        try {
            bindOrFail(s, r);
        } catch (RuntimeException e) {
            fail(s, r.path(), "internal error: " + e);
            throw e;
        }
    }

    private void bindOrFail(Subject s, Request r) {
        try {
            ExeOpener.Opened o = opener.open(r);
            bindOpened(s, o.file(), o.stat(), r.path(), false);
            Entry e;
            synchronized (lock) {
                Binding b = bindings.get(s);
                e = b == null || b.key == null ? null : entries.get(b.key);
                if (e != null) queue(e);
            }
        } catch (ExeOpener.Failure f) {
            fail(s, r.path(), f.getMessage());
        }
    }

    private void scriptBindJob(Subject s, Request exe) {
        try {
            findScript(s, exe);
        } catch (RuntimeException e) {
            fail(s, exe.path(), "internal error: " + e);
            throw e;
        }
    }

    private void findScript(Subject s, Request exe) {
        String script = null, cwd = null;
        Path dir = proc.root().resolve(Integer.toString(exe.pid()));
        if (exe.pid() > 0 && opener.alive(exe)) {
            List<String> argv = proc.cmdline(exe.pid()).map(ProcFs.Cmdline::argv).orElse(null);
            script = Scripts.scriptOf(exe.path(), argv);
            if (script != null && !script.startsWith("/")) {
                try {
                    cwd = io.peekd.bpf.Libc.readlink(dir.resolve("cwd"));
                } catch (java.io.IOException | RuntimeException e) {
                    cwd = null;
                }
            }
            if (!opener.alive(exe)) script = null; // read from a reused pid
        }
        String abs = Scripts.absolute(script, cwd);
        if (abs == null) {
            synchronized (lock) {
                Binding b = bindings.get(s);
                if (b != null) b.noScript = true;
            }
            return;
        }
        openScript(s, abs, true);
    }

    /** Puts an opened file into the cache (or finds it there) and binds the subject to its generation. */
    private void bindOpened(Subject s, NativeFile f, NativeFile.Stat st, String path, boolean hashNow) {
        FileId key = FileId.of(st);
        NativeFile toClose = null;
        NativeFile toMark = null;
        List<NativeFile> evictedFiles = new ArrayList<>();
        synchronized (lock) {
            Entry e = entries.get(key);
            if (e == null) {
                e = new Entry(key);
                e.file = f;
                e.stat = st;
                e.path = path;
                entries.put(key, e);
                toMark = f;
                evictedFiles = evict();
            } else if (!sameContent(e.stat, st)) {
                // Written since we last looked (no fanotify, or its event is still on its way).
                newGeneration(e, st);
                toClose = f;
            } else {
                toClose = f;
            }
            if (path != null && e.path == null) e.path = path;
            Binding b = bindings.computeIfAbsent(s, x -> new Binding());
            if (b.result == null) {
                b.key = key;
                b.gen = e.gen;
                if (s.script() && b.scriptPath == null) b.scriptPath = path;
            }
            if (hashNow) queue(e);
        }
        if (toClose != null) toClose.close();
        if (toMark != null && watch.active()) {
            try {
                watch.watch(toMark);
            } catch (SysError | RuntimeException ex) {
                LOG.log(System.Logger.Level.DEBUG, "cannot watch " + path + ": " + ex.getMessage());
            }
        }
        for (NativeFile ef : evictedFiles) release(ef);
    }

    /** Drops least recently used entries beyond the bound; returns descriptors to close now. */
    private List<NativeFile> evict() {
        List<NativeFile> out = new ArrayList<>();
        Iterator<Entry> it = entries.values().iterator();
        while (entries.size() > settings.fdCacheSize() && it.hasNext()) {
            Entry e = it.next();
            it.remove();
            e.evicted = true;
            if (e.busy == 0 && e.file != null) {
                out.add(e.file);
                e.file = null;
            }
        }
        return out;
    }

    private void release(NativeFile f) {
        watch.unwatch(f);
        f.close();
    }

    /**
     * Whether two looks at one inode may show the same content. Not ctime: an
     * unlink, rename or chmod moves it without touching a byte, and a package
     * upgrade would make every running binary look modified. A write that
     * restores mtime and size is what the fanotify watch is for.
     */
    private static boolean sameContent(NativeFile.Stat a, NativeFile.Stat b) {
        return a.mtimeNs() == b.mtimeNs() && a.size() == b.size();
    }

    private void newGeneration(Entry e, NativeFile.Stat st) {
        e.gen++;
        e.stat = st;
        e.queuedGen = -1;
        invalidations.incrementAndGet();
    }

    /** Queues hashing of the entry's current generation unless it is done or queued. Caller holds the lock. */
    private void queue(Entry e) {
        if (e.results.containsKey(e.gen) || e.queuedGen == e.gen || e.file == null) return;
        int gen = e.gen;
        if (submit(() -> hashJob(e, gen))) e.queuedGen = gen; // not queued: asked again next time
    }

    /** Runs a job on a hash thread; false when the queue is full or closed. */
    private boolean submit(Runnable job) {
        if (!running) return false;
        try {
            pool.execute(() -> {
                try {
                    job.run();
                } catch (RuntimeException ex) {
                    LOG.log(System.Logger.Level.ERROR, "hash job failed: " + ex, ex);
                }
            });
            return true;
        } catch (RejectedExecutionException ex) {
            LOG.log(System.Logger.Level.WARNING, "hash queue full or closed; a hash is retried when next asked for");
            return false;
        }
    }

    /** Starts a bind job for a new binding, or forgets the binding so that the next question tries again. */
    private void bindLater(Subject s, Runnable job) {
        if (!submit(job)) bindings.remove(s);
    }

    private void hashJob(Entry e, int gen) {
        NativeFile f;
        NativeFile.Stat before;
        synchronized (lock) {
            if (e.gen != gen || e.results.containsKey(gen) || e.file == null) {
                if (e.queuedGen == gen) e.queuedGen = -1;
                return;
            }
            f = e.file;
            before = e.stat;
            e.busy++;
        }
        HashResult result;
        long t0 = System.nanoTime();
        try {
            NativeFile.Stat st = f.stat();
            if (!sameContent(before, st)) {
                synchronized (lock) {
                    if (e.gen == gen) newGeneration(e, st);
                }
                result = new HashResult.Failed("modified before it could be hashed");
            } else {
                String sha = FileDigest.sha256(f);
                NativeFile.Stat after = f.stat();
                if (!sameContent(before, after)) {
                    synchronized (lock) {
                        if (e.gen == gen) newGeneration(e, after);
                    }
                    result = new HashResult.Failed("modified while hashing");
                } else {
                    filesHashed.incrementAndGet();
                    bytesHashed.addAndGet(st.size());
                    nanosHashing.addAndGet(System.nanoTime() - t0);
                    result = new HashResult.Hashed(sha, e.key);
                }
            }
        } catch (SysError ex) {
            result = new HashResult.Failed(ExeOpener.reason(ex));
        } catch (RuntimeException ex) {
            result = new HashResult.Failed("read failed: " + ex.getMessage());
        }
        NativeFile close = null;
        synchronized (lock) {
            e.busy--;
            e.results.put(gen, result);
            while (e.results.size() > RESULTS_PER_FILE) e.results.remove(e.results.firstEntry().getKey());
            if (e.queuedGen == gen) e.queuedGen = -1;
            if (e.evicted && e.busy == 0 && e.file != null) {
                close = e.file;
                e.file = null;
            }
        }
        if (close != null) release(close);
        if (result instanceof HashResult.Failed) note(e.path, result);
    }

    private void fail(Subject s, String path, String reason) {
        HashResult r = new HashResult.Failed(reason);
        synchronized (lock) {
            Binding b = bindings.get(s);
            if (b != null && b.result == null) b.result = r;
        }
        note(path, r);
    }

    /** One error-log line per executable and reason, however many processes run it. */
    private void note(String path, HashResult r) {
        failures.incrementAndGet();
        String key = path + "\0" + r.text();
        synchronized (lock) {
            if (logged.put(key, Boolean.TRUE) != null) return;
        }
        errors.accept("cannot hash " + (path == null ? "an executable of unknown path" : path) + ": "
                + ((HashResult.Failed) r).reason());
    }

    // ---- changes reported by the watch ----

    /**
     * A write was reported. One write brings two events (FAN_MODIFY, FAN_CLOSE_WRITE), and
     * the change may already have been seen by mtime: a new generation only if the file
     * looks different from the last look. ctime counts here, unlike in sameContent: a write
     * always moves it, even one that puts mtime back, and no user can set it.
     */
    private void changed(NativeFile.Stat st) {
        synchronized (lock) {
            Entry e = entries.get(FileId.of(st));
            if (e != null && (!sameContent(e.stat, st) || e.stat.ctimeNs() != st.ctimeNs())) newGeneration(e, st);
        }
    }

    /** After lost events: only what stat can show. */
    private void recheck(NativeFile.Stat st) {
        synchronized (lock) {
            Entry e = entries.get(FileId.of(st));
            if (e != null && !sameContent(e.stat, st)) newGeneration(e, st);
        }
    }

    /** Events were lost: look at every held file's ctime instead. */
    private void recheckAll() {
        List<Entry> all;
        synchronized (lock) {
            all = new ArrayList<>(entries.values());
            for (Entry e : all) e.busy++;
        }
        for (Entry e : all) {
            NativeFile f;
            synchronized (lock) {
                f = e.file;
            }
            try {
                if (f != null) recheck(f.stat());
            } catch (SysError | RuntimeException ex) {
                // closed meanwhile
            }
        }
        List<NativeFile> close = new ArrayList<>();
        synchronized (lock) {
            for (Entry e : all) {
                e.busy--;
                if (e.evicted && e.busy == 0 && e.file != null) {
                    close.add(e.file);
                    e.file = null;
                }
            }
        }
        close.forEach(this::release);
    }

    // ---- metrics and lifecycle ----

    /** Counters for metrics.json. */
    public Map<String, Object> stats() {
        Map<String, Object> m = new LinkedHashMap<>();
        synchronized (lock) {
            m.put("files_held", entries.size());
            m.put("processes_tracked", bindings.size());
        }
        m.put("files_hashed", filesHashed.get());
        m.put("bytes_hashed", bytesHashed.get());
        long ns = nanosHashing.get();
        m.put("hash_mb_per_s", ns == 0 ? null : Math.round(bytesHashed.get() / 1e6 / (ns / 1e9) * 10) / 10.0);
        m.put("failures", failures.get());
        m.put("changes_seen", invalidations.get());
        m.put("queued", pool.getQueue().size());
        m.put("fanotify", watch.active());
        return m;
    }

    /** Waits up to {@code millis} for queued hashing to finish (shutdown, tests). */
    public boolean awaitIdle(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < deadline) {
            if (pool.getQueue().isEmpty() && pool.getActiveCount() == 0) return true;
            Thread.sleep(10);
        }
        return false;
    }

    @Override
    public void close() {
        running = false;
        pool.shutdownNow();
        pkgThread.interrupt();
        try {
            pool.awaitTermination(5, TimeUnit.SECONDS);
            pkgThread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        List<NativeFile> close = new ArrayList<>();
        synchronized (lock) {
            for (Entry e : entries.values()) {
                e.evicted = true; // a job still reading closes the descriptor when it is done
                if (e.file != null && e.busy == 0) {
                    close.add(e.file);
                    e.file = null;
                }
            }
            entries.clear();
            bindings.clear();
        }
        close.forEach(NativeFile::close);
        watch.close();
    }
}

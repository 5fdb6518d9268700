package io.peekd.identity;

import io.peekd.capture.FlowKey;
import io.peekd.capture.KernelEvent;
import io.peekd.flow.FlowRow;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The daemon's one handle on executable identity: exec-time opening, hashing,
 * the hold-until-hashed gate and state.json. The daemon feeds it kernel
 * events (ring thread) and built rows (drain thread) and stores what
 * {@link #poll} releases.
 */
public final class ExeIdentity implements AutoCloseable {
    private final ExeIdSettings settings;
    private final ExeHashes hashes;
    private final ExeState state;
    private final HashGate gate;

    /**
     * Exec events wait here for the opener thread. Opening a file can block (a hung NFS
     * server revalidating on open), and that must stall this thread, never the ring buffer.
     */
    private final java.util.concurrent.BlockingQueue<KernelEvent.Exec> execs =
            new java.util.concurrent.ArrayBlockingQueue<>(8192);
    private final Thread opener;
    private final java.util.concurrent.atomic.AtomicLong execsDropped = new java.util.concurrent.atomic.AtomicLong();
    private volatile boolean running = true;

    private ExeIdentity(ExeIdSettings settings, ExeHashes hashes, ExeState state, HashGate gate) {
        this.settings = settings;
        this.hashes = hashes;
        this.state = state;
        this.gate = gate;
        this.opener = Thread.ofPlatform().daemon().name("peekd-exec-open").unstarted(this::openLoop);
        opener.start();
    }

    private void openLoop() {
        while (running) {
            KernelEvent.Exec x;
            try {
                x = execs.poll(250, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (x == null) continue;
            try {
                hashes.onExec(x.tgid(), x.startNs(), x.exeDev(), x.exeIno(), ProcessTable.execPath(x),
                        ProcessTable.argv(x.args()), x.cwd(), settings.everyExe());
            } catch (RuntimeException e) {
                System.getLogger("peekd.identity").log(System.Logger.Level.WARNING, "exec-time open failed: " + e);
            }
        }
    }

    /** @param errors the daemon's error log (one line per problem worth an operator's attention) */
    public static ExeIdentity start(ExeIdSettings s, ProcFs proc, Consumer<String> errors) {
        checkOpenFileLimit(s.identity().fdCacheSize(), errors);
        ExeHashes hashes = new ExeHashes(s.hashing(), proc, PackageVerifier.detect(), errors);
        ExeState state = new ExeState(s.state(), s.exeLog(), errors);
        return new ExeIdentity(s, hashes, state, new HashGate(hashes, state, errors));
    }

    /** Room for fd_cache_size held files plus the daemon's own descriptors (database, sockets, BPF maps). */
    static void checkOpenFileLimit(int fdCacheSize, Consumer<String> errors) {
        long soft = openFileLimit(java.nio.file.Path.of("/proc/self/limits"));
        if (soft > 0 && fdCacheSize + 512L > soft)
            errors.accept("identity.fd_cache_size " + fdCacheSize + " leaves too little room under the open-file limit "
                    + soft + "; hashing will fail with \"too many open files\": lower it, or raise the limit"
                    + " (LimitNOFILE= in the systemd unit, ulimit -n)");
    }

    /** The soft RLIMIT_NOFILE from /proc/self/limits, or -1 when unknown or unlimited. */
    static long openFileLimit(java.nio.file.Path limits) {
        try {
            for (String line : java.nio.file.Files.readAllLines(limits)) {
                if (!line.startsWith("Max open files")) continue;
                String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                return soft.equals("unlimited") ? -1 : Long.parseLong(soft);
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux, or unreadable: nothing to check
        }
        return -1;
    }

    public ExeHashes hashes() {
        return hashes;
    }

    public ExeState state() {
        return state;
    }

    public HashGate gate() {
        return gate;
    }

    /**
     * Ring-buffer thread: new programs are handed to the opener thread (it opens them
     * within microseconds, so short-lived ones are caught), and hashing starts when a
     * flow begins. Never blocks: a full hand-off queue drops the exec-time open, and
     * that process is then opened by path when its row is built.
     */
    public void onEvent(KernelEvent e) {
        switch (e) {
            case KernelEvent.Exec x -> {
                hashes.noteExec(x.tgid(), x.startNs(), x.exeIno(), ProcessTable.execPath(x), ProcessTable.argv(x.args()),
                        x.cwd());
                if (!execs.offer(x)) execsDropped.incrementAndGet();
            }
            case KernelEvent.NewFlow f -> hashes.prefetch(f.key().tgid(), f.key().startNs(), f.key().exeIno());
            default -> { }
        }
    }

    /** Drain thread: a closed window's rows, built with identity but not yet hashes. */
    public void offer(Instant window, List<HashGate.Keyed> rows) {
        gate.offer(window, rows);
    }

    /** Drain thread: windows ready to store, in order. */
    public List<HashGate.Batch> poll(boolean force) {
        return gate.poll(force);
    }

    /** Rows of held windows and of the open window, with what is known now. */
    public List<FlowRow> live(List<HashGate.Keyed> open) {
        List<FlowRow> out = gate.peek();
        out.addAll(gate.preview(open));
        return out;
    }

    /** Counters for metrics.json. */
    public Map<String, Object> stats() {
        Map<String, Object> m = new LinkedHashMap<>(hashes.stats());
        m.put("exec_opens_dropped", execsDropped.get());
        m.put("held_windows", gate.heldWindows());
        m.put("held_rows", gate.heldRows());
        double[] hold = gate.holdStats();
        m.put("rows_released", (long) hold[0]);
        m.put("hold_ms_mean", Math.round(hold[1] * 10) / 10.0);
        m.put("hold_ms_max", Math.round(hold[2] * 10) / 10.0);
        return m;
    }

    /** Shutdown: waits (bounded) for hashes still being computed. */
    public void awaitHashes(long millis) {
        try {
            hashes.awaitIdle(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        running = false;
        opener.interrupt();
        try {
            opener.join(2000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        state.saveIfDirty();
        hashes.close();
    }

    /** Whether a kernel flow key stands for an exec rather than traffic (every_exe rows). */
    public static boolean isExecKey(FlowKey k) {
        return ExecRows.isExec(k);
    }
}

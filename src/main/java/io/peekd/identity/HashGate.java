package io.peekd.identity;

import io.peekd.capture.FlowKey;
import io.peekd.flow.Flag;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Holds the rows of closed windows until the hashes of their executables are
 * known, then releases them with sha256, psha256, the script and the NEW_EXE
 * / NEW_HASH flags filled in. Rows of one executable leave in order; a slow
 * hash delays only its own executable.
 *
 * <p>Why hold rather than write {@code "pending"} and patch rows later: a
 * stored row is then final, what an alert or a script reads is the real hash,
 * and flags are judged once, in window order. Hashing a normal binary takes
 * milliseconds, far less than a window; a huge or slow one holds its window
 * rows at most {@link #MAX_HOLD}, after which they are written with
 * {@code "error: still hashing after 15 s"} and later windows get the hash.
 * Capture and accounting never wait: windows keep closing, other executables'
 * rows keep being stored, and held rows are shown by live queries.
 *
 * <p>Only the daemon's drain thread calls this class.
 */
public final class HashGate {
    public static final Duration MAX_HOLD = Duration.ofSeconds(15);
    /** How often state.json is rewritten while it has changes (a full rewrite, so not at every drain). */
    static final Duration SAVE_EVERY = Duration.ofSeconds(5);

    /** A built row and what its sha256 columns are about. */
    public record Keyed(FlowKey key, FlowRow row, ProcessTable.ExeRef parent) {
    }

    /** A window released for storing. */
    public record Batch(Instant window, List<FlowRow> rows) {
    }

    /** A new executable or new content, as judged: for VirusTotal and anyone else who cares. */
    public record Sighting(String path, String name, HashResult.Hashed hash, PackageStatus pkg, int flags,
                           boolean script) {
    }

    /** A closed window with some rows still waiting; {@code released} marks those handed on. */
    private static final class Held {
        private final Instant window;
        private final List<Keyed> rows;
        private final long deadline;
        private final boolean[] released;
        int left;

        Held(Instant window, List<Keyed> rows, long deadline) {
            this.window = window;
            this.rows = rows;
            this.deadline = deadline;
            this.released = new boolean[rows.size()];
            this.left = rows.size();
        }

        Instant window() {
            return window;
        }

        List<Keyed> rows() {
            return rows;
        }

        long deadline() {
            return deadline;
        }

        boolean[] released() {
            return released;
        }
    }

    private final ExeHashes hashes;
    private final ExeState state;
    private final Consumer<String> errors;
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private final List<Consumer<Sighting>> listeners = new CopyOnWriteArrayList<>();
    private final long maxHoldNanos;
    private final long saveEveryNanos;
    private long lastSave = System.nanoTime();
    private long released, heldNanosTotal, heldNanosMax;

    public HashGate(ExeHashes hashes, ExeState state, Consumer<String> errors) {
        this(hashes, state, errors, MAX_HOLD);
    }

    HashGate(ExeHashes hashes, ExeState state, Consumer<String> errors, Duration maxHold) {
        this(hashes, state, errors, maxHold, SAVE_EVERY);
    }

    HashGate(ExeHashes hashes, ExeState state, Consumer<String> errors, Duration maxHold, Duration saveEvery) {
        this.hashes = hashes;
        this.state = state;
        this.errors = errors;
        this.maxHoldNanos = maxHold.toNanos();
        this.saveEveryNanos = saveEvery.toNanos();
    }

    private long holdSeconds() {
        return Math.max(1, maxHoldNanos / 1_000_000_000L);
    }

    public void onSighting(Consumer<Sighting> l) {
        listeners.add(l);
    }

    /** A closed window's rows; their hashes are asked for now. */
    public void offer(Instant window, List<Keyed> rows) {
        if (rows.isEmpty()) return;
        for (Keyed k : rows) {
            if (k.row().id() == null) continue;
            if (k.row().id().exe() != null) hashes.resolve(self(k));
            hashes.resolve(parent(k));
        }
        held.addLast(new Held(window, List.copyOf(rows), System.nanoTime() + maxHoldNanos));
    }

    /**
     * Rows whose hashes are known (or whose window waited long enough), as
     * batches per window, oldest first. Rows of one executable keep their
     * order (NEW_EXE and NEW_HASH are judged in time order), but a slow hash
     * holds back only its own executable's rows, not everybody's.
     *
     * @param force release everything now (shutdown)
     */
    public List<Batch> poll(boolean force) {
        List<Batch> out = new ArrayList<>();
        long now = System.nanoTime();
        Set<String> blocked = new HashSet<>();
        for (Iterator<Held> it = held.iterator(); it.hasNext(); ) {
            Held h = it.next();
            boolean late = force || now - h.deadline() >= 0;
            List<Keyed> ready = new ArrayList<>();
            for (int i = 0; i < h.rows().size(); i++) {
                if (h.released()[i]) continue;
                Keyed k = h.rows().get(i);
                String exe = k.row().id() == null ? null : k.row().id().exe();
                if (late || ((exe == null || !blocked.contains(exe)) && ready(k))) {
                    ready.add(k);
                    h.released()[i] = true;
                    h.left--;
                } else if (exe != null) {
                    blocked.add(exe);
                }
            }
            if (!ready.isEmpty()) {
                out.add(new Batch(h.window(), judge(h.window(), ready, late, force)));
                long heldNs = now - (h.deadline() - maxHoldNanos);
                released += ready.size();
                heldNanosTotal += heldNs * ready.size();
                heldNanosMax = Math.max(heldNanosMax, heldNs);
            }
            if (h.left == 0) it.remove();
        }
        // Not only when rows leave: the sighting that made the state dirty may have been the
        // last of a quiet spell, and state.json must not wait for the next one to show it.
        if (force || now - lastSave > saveEveryNanos) {
            state.saveIfDirty();
            lastSave = now;
        }
        return out;
    }

    /** Held rows as they look now, hashes known so far and {@code "pending"} for the rest (live queries). */
    public List<FlowRow> peek() {
        List<FlowRow> out = new ArrayList<>();
        for (Held h : held) {
            for (int i = 0; i < h.rows().size(); i++) if (!h.released()[i]) out.add(fill(h.rows().get(i), false).row());
        }
        return out;
    }

    /** Rows of the open window with the hashes already known (live queries). */
    public List<FlowRow> preview(List<Keyed> rows) {
        List<FlowRow> out = new ArrayList<>(rows.size());
        for (Keyed k : rows) out.add(fill(k, false).row());
        return out;
    }

    public int heldWindows() {
        return held.size();
    }

    /** How long rows waited here for their hashes: [rows released, mean ms, max ms] (metrics, bench). */
    public double[] holdStats() {
        return new double[] {released, released == 0 ? 0 : heldNanosTotal / 1e6 / released, heldNanosMax / 1e6};
    }

    /** Rows waiting for a hash (metrics). */
    public int heldRows() {
        int n = 0;
        for (Held h : held) n += h.left;
        return n;
    }

    /** Every hash of the row known, and for content that will be flagged new, the package verdict too. */
    private boolean ready(Keyed k) {
        Filled f = fill(k, false);
        if (!f.complete()) return false;
        Identity id = k.row().id();
        if (id == null) return true;
        if (f.exe() instanceof HashResult.Hashed && state.wouldFlag(id.exe(), f.exe())
                && hashes.packageStatus(self(k), false) == null) return false;
        return !(f.script().hash() instanceof HashResult.Hashed && state.wouldFlag(f.script().path(), f.script().hash())
                && hashes.packageStatus(self(k), true) == null);
    }

    private record Filled(FlowRow row, boolean complete, HashResult exe, HashResult parent, ExeHashes.Script script) {
    }

    static ExeHashes.Request self(Keyed k) {
        Identity id = k.row().id();
        if (id == null) return null;
        FlowKey f = k.key();
        return new ExeHashes.Request(f.tgid(), ProcFs.ticks(f.startNs()), f.exeDev() == 0 ? -1 : f.exeDev(),
                f.exeIno(), id.exe());
    }

    static ExeHashes.Request parent(Keyed k) {
        Identity id = k.row().id();
        if (id == null || id.pexe() == null) return null;
        ProcessTable.ExeRef p = k.parent();
        if (p != null && p.path().equals(id.pexe()))
            return new ExeHashes.Request(p.pid(), p.startTicks(), p.kernelDev(), p.ino(), p.path());
        return id.ppid() > 0 ? new ExeHashes.Request(id.ppid(), -1, -1, 0, id.pexe()) : null;
    }

    /** The row with what is known now; {@code complete} when nothing is still being hashed. */
    private Filled fill(Keyed k, boolean last) {
        return fill(k, last, false);
    }

    private Filled fill(Keyed k, boolean last, boolean shutdown) {
        Identity id = k.row().id();
        if (id == null) return new Filled(k.row(), true, null, null, ExeHashes.Script.NONE);
        ExeHashes.Request self = self(k);
        HashResult exe = self == null || id.exe() == null ? null : hashes.resolve(self);
        ExeHashes.Request pr = parent(k);
        HashResult par = pr == null ? null : hashes.resolve(pr);
        ExeHashes.Script script = self == null ? ExeHashes.Script.NONE : hashes.resolveScript(self);
        boolean complete = (id.exe() == null || exe != null) && (pr == null || par != null) && script.done();
        String pending = !last ? "pending" : shutdown ? "error: shutdown before hashing finished"
                : "error: still hashing after " + holdSeconds() + " s";
        String sha = id.exe() == null ? null : exe == null ? pending : exe.text();
        String psha = pr == null ? null : par == null ? pending : par.text();
        String ssha = script.path() == null ? null : script.hash() == null ? pending : script.hash().text();
        Identity full = id.withHashes(sha, psha, script.path(), ssha);
        return new Filled(k.row().withIdentity(full, k.row().flags()), complete, exe, par, script);
    }

    /** Final rows of a released window: hashes, then flags from state.json, once per executable and window. */
    private List<FlowRow> judge(Instant window, List<Keyed> rows, boolean late, boolean shutdown) {
        Map<String, Integer> seen = new HashMap<>();
        List<FlowRow> out = new ArrayList<>(rows.size());
        for (Keyed k : rows) {
            Filled f = fill(k, late, shutdown);
            FlowRow r = f.row();
            Identity id = r.id();
            if (id == null) {
                out.add(r);
                continue;
            }
            if (!f.complete()) {
                List<String> waiting = new ArrayList<>();
                if (id.exe() != null && f.exe() == null) waiting.add(id.exe());
                if (parent(k) != null && f.parent() == null) waiting.add("parent " + id.pexe());
                if (!f.script().done()) waiting.add("script of pid " + id.pid());
                errors.accept("hashing " + String.join(", ", waiting) + (shutdown ? " was not done at shutdown"
                        : " took longer than " + holdSeconds() + " s") + "; the window of " + window
                        + " was stored without the hash");
            }
            int flags = 0;
            if (id.exe() != null)
                flags |= flagsFor(seen, id.exe(), f.exe(), pkg(k, f.exe(), false), id.name(), id.pexe(), false);
            if (f.script().path() != null)
                flags |= flagsFor(seen, f.script().path(), f.script().hash(), pkg(k, f.script().hash(), true), id.name(),
                        id.exe(), true);
            out.add(r.withIdentity(id, r.flags() | flags));
        }
        return out;
    }

    /** The package verdict if one is known (asked for only when the sighting would be flagged). */
    private PackageStatus pkg(Keyed k, HashResult hash, boolean script) {
        if (!(hash instanceof HashResult.Hashed)) return null;
        Identity id = k.row().id();
        String path = script ? hashes.resolveScript(self(k)).path() : id.exe();
        return state.wouldFlag(path, hash) ? hashes.packageStatus(self(k), script) : null;
    }

    private int flagsFor(Map<String, Integer> seen, String path, HashResult hash, PackageStatus pkg, String name,
                         String parent, boolean script) {
        String key = path + "\0" + (hash == null ? "" : hash.text());
        Integer known = seen.get(key);
        if (known != null) {
            state.observe(path, hash, pkg, name, parent, script, java.time.Instant.now());
            return known;
        }
        int flags = state.observe(path, hash, pkg, name, parent, script, java.time.Instant.now());
        seen.put(key, flags);
        if (flags != 0 && hash instanceof HashResult.Hashed hh) {
            Sighting s = new Sighting(path, name, hh, pkg, flags, script);
            for (Consumer<Sighting> l : listeners) {
                try {
                    l.accept(s);
                } catch (RuntimeException e) {
                    errors.accept("handling new executable " + path + " failed: " + e);
                }
            }
        }
        return flags;
    }
}

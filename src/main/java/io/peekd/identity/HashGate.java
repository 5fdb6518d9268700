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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * Holds closed windows until the hashes of their executables are known, then
 * releases them, in order, with sha256, psha256, the script and the NEW_EXE /
 * NEW_HASH flags filled in.
 *
 * <p>Why hold rather than write {@code "pending"} and patch rows later: a
 * stored row is then final, what an alert or a script reads is the real hash,
 * and flags are judged once, in window order. Hashing a normal binary takes
 * milliseconds, far less than a window; a huge or slow one holds its window
 * at most {@link #MAX_HOLD}, after which the row is written with
 * {@code "error: still hashing"} and later windows get the hash. Capture and
 * accounting never wait: windows keep closing behind the held one, and held
 * rows are shown by live queries.
 *
 * <p>Only the daemon's drain thread calls this class.
 */
public final class HashGate {
    public static final Duration MAX_HOLD = Duration.ofSeconds(15);

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

    private record Held(Instant window, List<Keyed> rows, long deadline) {
    }

    private final ExeHashes hashes;
    private final ExeState state;
    private final Consumer<String> errors;
    private final ArrayDeque<Held> held = new ArrayDeque<>();
    private final List<Consumer<Sighting>> listeners = new CopyOnWriteArrayList<>();
    private final long maxHoldNanos;
    private long lastSave = System.nanoTime();

    public HashGate(ExeHashes hashes, ExeState state, Consumer<String> errors) {
        this(hashes, state, errors, MAX_HOLD);
    }

    HashGate(ExeHashes hashes, ExeState state, Consumer<String> errors, Duration maxHold) {
        this.hashes = hashes;
        this.state = state;
        this.errors = errors;
        this.maxHoldNanos = maxHold.toNanos();
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
     * Windows whose hashes are all known (or that waited long enough), oldest
     * first; a window not ready stops the ones behind it, so order is kept.
     *
     * @param force release everything now (shutdown)
     */
    public List<Batch> poll(boolean force) {
        List<Batch> out = new ArrayList<>();
        long now = System.nanoTime();
        while (!held.isEmpty()) {
            Held h = held.peekFirst();
            boolean late = force || now - h.deadline() >= 0;
            if (!late && !ready(h)) break;
            held.removeFirst();
            out.add(new Batch(h.window(), judge(h, force)));
        }
        if (!out.isEmpty() && (force || now - lastSave > Duration.ofSeconds(5).toNanos())) {
            state.saveIfDirty();
            lastSave = now;
        }
        return out;
    }

    /** Held rows as they look now, hashes known so far and {@code "pending"} for the rest (live queries). */
    public List<FlowRow> peek() {
        List<FlowRow> out = new ArrayList<>();
        for (Held h : held) {
            for (Keyed k : h.rows()) out.add(fill(k, false).row());
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

    /** Every hash known, and for content that will be flagged new, the package verdict too. */
    private boolean ready(Held h) {
        for (Keyed k : h.rows()) {
            Filled f = fill(k, false);
            if (!f.complete()) return false;
            Identity id = k.row().id();
            if (id == null) continue;
            if (f.exe() instanceof HashResult.Hashed && state.wouldFlag(id.exe(), f.exe())
                    && hashes.packageStatus(self(k), false) == null) return false;
            if (f.script().hash() instanceof HashResult.Hashed && state.wouldFlag(f.script().path(), f.script().hash())
                    && hashes.packageStatus(self(k), true) == null) return false;
        }
        return true;
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
                : "error: still hashing after " + MAX_HOLD.toSeconds() + " s";
        String sha = id.exe() == null ? null : exe == null ? pending : exe.text();
        String psha = pr == null ? null : par == null ? pending : par.text();
        String ssha = script.path() == null ? null : script.hash() == null ? pending : script.hash().text();
        Identity full = id.withHashes(sha, psha, script.path(), ssha);
        return new Filled(k.row().withIdentity(full, k.row().flags()), complete, exe, par, script);
    }

    /** Final rows of a released window: hashes, then flags from state.json, once per executable and window. */
    private List<FlowRow> judge(Held h, boolean shutdown) {
        Map<String, Integer> seen = new HashMap<>();
        List<FlowRow> out = new ArrayList<>(h.rows().size());
        for (Keyed k : h.rows()) {
            Filled f = fill(k, true, shutdown);
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
                        : " took longer than " + MAX_HOLD.toSeconds() + " s") + "; the window of " + h.window()
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

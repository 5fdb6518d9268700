package io.peekd.identity;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.peekd.flow.Flag;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * {@code state.json}: every executable peekd has seen, with the names it ran
 * under, its parents and its hashes; this is what NEW_EXE and NEW_HASH are
 * judged against, so it survives restarts. VirusTotal verdicts live here too,
 * keyed by hash, pending ones included, so that a lookup survives a restart.
 *
 * <p>Written atomically (temporary file, then rename) at most every few
 * seconds and at shutdown. A damaged file is moved aside, reported and
 * replaced by an empty state: everything then looks new once, which is loud
 * but loses nothing.
 */
public final class ExeState {
    private static final System.Logger LOG = System.getLogger("peekd.identity");
    static final int VERSION = 1;
    static final int MAX_NAMES = 16, MAX_PARENTS = 32, MAX_HASHES = 32, MAX_EXES = 200_000, MAX_VERDICTS = 200_000;
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** The file's layout. Field names are part of the on-disk contract. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static final class Doc {
        public int version = VERSION;
        public LinkedHashMap<String, Exe> executables = new LinkedHashMap<>();
        public LinkedHashMap<String, Verdict> virustotal = new LinkedHashMap<>();
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static final class Exe {
        @JsonProperty("first_seen")
        public String firstSeen;
        @JsonProperty("last_seen")
        public String lastSeen;
        /** A script or jar run by an interpreter rather than a binary. */
        public Boolean script;
        public List<String> names = new ArrayList<>();
        public List<String> parents = new ArrayList<>();
        public LinkedHashMap<String, Hash> hashes = new LinkedHashMap<>();
    }

    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static final class Hash {
        @JsonProperty("first_seen")
        public String firstSeen;
        @JsonProperty("last_seen")
        public String lastSeen;
        /** e.g. {@code dpkg:coreutils}; null when no package owns the path. */
        @JsonProperty("package")
        public String pkg;
        /** {@code matches}, {@code mismatch} or {@code unverifiable}; null when unowned. */
        @JsonProperty("package_status")
        public String packageStatus;
    }

    /** A VirusTotal answer for one hash. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static final class Verdict {
        /** {@code clean}, {@code suspicious}, {@code unknown}, {@code pending} or {@code error}. */
        public String verdict;
        public String path;
        public Integer malicious;
        public Integer suspicious;
        public Integer harmless;
        public Integer undetected;
        /** Analysis id of an upload still being scanned. */
        @JsonProperty("analysis_id")
        public String analysisId;
        public String error;
        public String checked;
        public Integer attempts;
        /** The file that was hashed, so that an upload can check it is still the same. */
        @JsonProperty("dev_major")
        public Integer devMajor;
        @JsonProperty("dev_minor")
        public Integer devMinor;
        public Long ino;
    }

    private final Path file;
    private final Path exeLog;
    private final Consumer<String> errors;
    private final Object saveLock = new Object();
    private Doc doc;
    private boolean dirty;
    private boolean exeLogWarned;
    private boolean saveFailing;

    /**
     * @param exeLog {@code log_dir/exe.log}, or null when {@code database.text_log} is off
     */
    public ExeState(Path file, Path exeLog, Consumer<String> errors) {
        this.file = file;
        this.exeLog = exeLog;
        this.errors = errors;
        this.doc = load();
    }

    private Doc load() {
        if (!Files.exists(file)) return new Doc();
        try {
            Doc d = JSON.readValue(file.toFile(), Doc.class);
            if (d == null) throw new IOException("empty");
            if (d.version > VERSION) throw new IOException("written by a newer peekd (version " + d.version + ")");
            if (d.executables == null) d.executables = new LinkedHashMap<>();
            if (d.virustotal == null) d.virustotal = new LinkedHashMap<>();
            d.executables.values().removeIf(e -> e == null);
            for (Exe e : d.executables.values()) {
                if (e.names == null) e.names = new ArrayList<>();
                if (e.parents == null) e.parents = new ArrayList<>();
                if (e.hashes == null) e.hashes = new LinkedHashMap<>();
                e.hashes.values().removeIf(h -> h == null);
            }
            d.virustotal.values().removeIf(v -> v == null || v.verdict == null);
            return d;
        } catch (IOException | RuntimeException e) {
            Path aside = file.resolveSibling(file.getFileName() + ".bad-" + Instant.now().getEpochSecond());
            String moved;
            try {
                Files.move(file, aside, StandardCopyOption.REPLACE_EXISTING);
                moved = "moved it to " + aside;
            } catch (IOException m) {
                moved = "could not move it aside (" + m.getMessage() + ")";
            }
            errors.accept("cannot read " + file + " (" + e.getMessage().lines().findFirst().orElse("")
                    + "); " + moved + " and starting with no known executables: every executable will be NEW_EXE once");
            return new Doc();
        }
    }

    /**
     * Records that {@code path} ran with {@code hash} and returns the {@link Flag}
     * bits this sighting earns: NEW_EXE for a path never seen, NEW_HASH for a
     * known path with a sha256 it never had, and with either the package bit
     * for the content. A failed hash records the path but judges no content.
     */
    public synchronized int observe(String path, HashResult hash, PackageStatus pkg, String name, String parent,
                                    boolean script, Instant when) {
        if (path == null || path.isEmpty()) return 0;
        String t = when.truncatedTo(ChronoUnit.SECONDS).toString();
        int flags = 0;
        Exe e = doc.executables.get(path);
        if (e == null) {
            if (doc.executables.size() >= MAX_EXES) evictOldestExe();
            e = new Exe();
            e.firstSeen = t;
            doc.executables.put(path, e);
            flags |= Flag.NEW_EXE.bit;
        }
        if (!t.equals(e.lastSeen)) {
            e.lastSeen = t;
            dirty = true;
        }
        if (script) e.script = Boolean.TRUE;
        addBounded(e.names, name, MAX_NAMES);
        addBounded(e.parents, parent, MAX_PARENTS);
        if (hash instanceof HashResult.Hashed h) {
            Hash known = e.hashes.get(h.sha256());
            if (known == null) {
                // The first hash of a path known only from failed attempts has nothing to differ from.
                if (!e.hashes.isEmpty()) flags |= Flag.NEW_HASH.bit;
                if (e.hashes.size() >= MAX_HASHES) e.hashes.remove(e.hashes.firstEntry().getKey());
                known = new Hash();
                known.firstSeen = t;
                switch (pkg == null ? PackageStatus.UNOWNED : pkg) {
                    case PackageStatus.Matches m -> {
                        known.pkg = m.manager() + ":" + m.pkg();
                        known.packageStatus = "matches";
                    }
                    case PackageStatus.Mismatch m -> {
                        known.pkg = m.manager() + ":" + m.pkg();
                        known.packageStatus = "mismatch";
                    }
                    case PackageStatus.Unverifiable u -> {
                        known.pkg = u.manager() + ":" + u.pkg();
                        known.packageStatus = "unverifiable";
                    }
                    case PackageStatus.Unowned u -> { }
                }
                e.hashes.put(h.sha256(), known);
                if ((flags & (Flag.NEW_EXE.bit | Flag.NEW_HASH.bit)) != 0) {
                    if (pkg instanceof PackageStatus.Matches) flags |= Flag.PACKAGED.bit;
                    if (pkg instanceof PackageStatus.Mismatch) flags |= Flag.PACKAGE_MISMATCH.bit;
                }
            }
            known.lastSeen = t;
        }
        dirty = true;
        if (flags != 0) exeLog(t, flags, path, hash, name, parent);
        return flags;
    }

    /** Whether {@link #observe} would flag this sighting (so its package check is worth waiting for). */
    public synchronized boolean wouldFlag(String path, HashResult hash) {
        if (path == null || path.isEmpty()) return false;
        Exe e = doc.executables.get(path);
        if (e == null) return true;
        return hash instanceof HashResult.Hashed h && !e.hashes.isEmpty() && !e.hashes.containsKey(h.sha256());
    }

    private static void addBounded(List<String> list, String v, int max) {
        if (v == null || v.isEmpty() || list.contains(v)) return;
        if (list.size() >= max) list.removeFirst();
        list.add(v);
    }

    private void evictOldestExe() {
        String oldest = null, when = null;
        for (var en : doc.executables.entrySet()) {
            String ls = en.getValue().lastSeen == null ? "" : en.getValue().lastSeen;
            if (when == null || ls.compareTo(when) < 0) {
                oldest = en.getKey();
                when = ls;
            }
        }
        if (oldest != null) doc.executables.remove(oldest);
    }

    /** One line per NEW_EXE / NEW_HASH, for people who grep. */
    private void exeLog(String t, int flags, String path, HashResult hash, String name, String parent) {
        if (exeLog == null) return;
        String line = t + " " + String.join(",", Flag.names(flags)) + " " + path
                + " sha256=" + (hash == null ? "-" : hash.text().replace(' ', '_'))
                + " name=" + (name == null ? "-" : name.replace(' ', '_'))
                + " parent=" + (parent == null ? "-" : parent) + "\n";
        try {
            Files.createDirectories(exeLog.getParent());
            Files.writeString(exeLog, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            if (!exeLogWarned) errors.accept("cannot write " + exeLog + ": " + e.getMessage());
            exeLogWarned = true;
        }
    }

    // ---- VirusTotal verdicts ----

    public synchronized Verdict verdict(String sha256) {
        Verdict v = doc.virustotal.get(sha256);
        return v == null ? null : copy(v);
    }

    public synchronized void putVerdict(String sha256, Verdict v) {
        if (!doc.virustotal.containsKey(sha256) && doc.virustotal.size() >= MAX_VERDICTS)
            doc.virustotal.remove(doc.virustotal.firstEntry().getKey());
        doc.virustotal.put(sha256, copy(v));
        dirty = true;
    }

    /** Hashes whose lookup or scan has not finished, oldest first: taken up again after a restart. */
    public synchronized List<Map.Entry<String, Verdict>> pendingVerdicts() {
        List<Map.Entry<String, Verdict>> out = new ArrayList<>();
        doc.virustotal.forEach((k, v) -> {
            if ("pending".equals(v.verdict)) out.add(Map.entry(k, copy(v)));
        });
        return out;
    }

    /** Whether the executable at {@code path} is in the state at all. */
    public synchronized boolean knows(String path) {
        return doc.executables.containsKey(path);
    }

    private static Verdict copy(Verdict v) {
        return JSON.convertValue(v, Verdict.class);
    }

    // ---- reading and persistence ----

    /** A deep copy of the current state (CLI, tests). */
    public synchronized Doc snapshot() {
        return JSON.convertValue(doc, Doc.class);
    }

    /** Reads a state file without taking ownership of it (for {@code peekd exes}). */
    public static Doc read(Path file) throws IOException {
        Doc d = JSON.readValue(file.toFile(), Doc.class);
        if (d.executables == null) d.executables = new LinkedHashMap<>();
        if (d.virustotal == null) d.virustotal = new LinkedHashMap<>();
        return d;
    }

    /**
     * Writes the file if anything changed since the last save. Saves from the drain
     * thread and from VirusTotal's worker take turns: two at once would share the
     * temporary file, and the older snapshot could land last with nothing left dirty.
     */
    public void saveIfDirty() {
        synchronized (saveLock) {
            save();
        }
    }

    private void save() {
        byte[] bytes;
        synchronized (this) {
            if (!dirty) return;
            try {
                bytes = JSON.writeValueAsBytes(doc);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.ERROR, "cannot encode state: " + e);
                return;
            }
            dirty = false;
        }
        try {
            Files.createDirectories(file.getParent());
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
            Files.write(tmp, bytes);
            try {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r-----"));
            } catch (UnsupportedOperationException | IOException ignored) {
                // not a POSIX file system: the default mode stays
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            if (saveFailing) LOG.log(System.Logger.Level.INFO, file + " written again");
            saveFailing = false;
        } catch (IOException e) {
            synchronized (this) {
                dirty = true; // try again next time: nothing is lost while the daemon runs
            }
            if (!saveFailing) errors.accept("cannot write " + file + ": " + e.getMessage() + "; will keep trying");
            saveFailing = true;
        }
    }
}

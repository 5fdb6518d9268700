package io.peekd.identity;

import io.peekd.bpf.NativeFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Asks the distribution's package database whether a file's content is what
 * its package installed: dpkg's md5sums on Debian and Ubuntu, rpm's file
 * digests on Fedora and friends. Where neither is installed every file is
 * "unowned", which is what it is to us. Used only for new executables and
 * new hashes, so spawning dpkg-query is affordable.
 */
public final class PackageVerifier {
    private static final System.Logger LOG = System.getLogger("peekd.identity");
    private static final long TIMEOUT_SECONDS = 20;

    /** Which database to ask; {@code NONE} when the machine has neither. */
    public enum Manager { DPKG, RPM, NONE }

    private final Manager manager;
    private final Path dpkgInfo;
    // Directories that hold any packaged file, and the dpkg status mtime they were read at.
    private Set<String> dpkgDirs;
    private long dpkgDirsStamp = Long.MIN_VALUE;

    PackageVerifier(Manager manager, Path dpkgInfo) {
        this.manager = manager;
        this.dpkgInfo = dpkgInfo;
    }

    /** dpkg if its database and dpkg-query are present, else rpm if {@code rpm} is on the PATH, else none. */
    public static PackageVerifier detect() {
        Path info = Path.of("/var/lib/dpkg/info");
        if (Files.isDirectory(info) && onPath("dpkg-query")) return new PackageVerifier(Manager.DPKG, info);
        if (onPath("rpm")) return new PackageVerifier(Manager.RPM, null);
        return new PackageVerifier(Manager.NONE, null);
    }

    public static PackageVerifier none() {
        return new PackageVerifier(Manager.NONE, null);
    }

    public Manager manager() {
        return manager;
    }

    static boolean onPath(String tool) {
        String path = System.getenv().getOrDefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        for (String dir : path.split(":")) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) return true;
        }
        return false;
    }

    /** One file to check: its path, an open descriptor of the content, and that content's sha256. */
    public record Check(String path, NativeFile file, String sha256) {
    }

    /** Checks one file; see {@link #verifyAll}. */
    public PackageStatus verify(String path, NativeFile file, String sha256) {
        return verifyAll(List.of(new Check(path, file, sha256))).getFirst();
    }

    /**
     * Checks the content behind each descriptor against the package owning its
     * path, answering in the order asked. dpkg is asked once for the whole
     * batch, because each dpkg-query reads the entire package database (a
     * fifth of a second here). Never throws: trouble asking the database makes
     * the answer {@link PackageStatus.Unverifiable}.
     */
    public List<PackageStatus> verifyAll(List<Check> checks) {
        List<PackageStatus> out = new ArrayList<>(checks.size());
        if (manager == Manager.NONE) {
            checks.forEach(c -> out.add(PackageStatus.UNOWNED));
            return out;
        }
        Map<String, String> owners = Map.of();
        if (manager == Manager.DPKG) {
            try {
                owners = dpkgOwners(checks);
            } catch (IOException | RuntimeException e) {
                for (Check c : checks) out.add(new PackageStatus.Unverifiable("dpkg", "?", e.getMessage()));
                return out;
            }
        }
        Map<String, Map<String, String>> md5sums = new HashMap<>();
        for (Check c : checks) {
            if (c.path() == null || !c.path().startsWith("/")) {
                out.add(PackageStatus.UNOWNED);
                continue;
            }
            try {
                out.add(manager == Manager.DPKG ? dpkg(c, owners, md5sums) : rpm(c.path(), c.file(), c.sha256()));
            } catch (IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "package check of " + c.path() + " failed: " + e);
                out.add(new PackageStatus.Unverifiable(manager.name().toLowerCase(Locale.ROOT), "?", e.getMessage()));
            }
        }
        return out;
    }

    /**
     * With merged /usr the package database still lists /bin/ls while the
     * kernel names the file /usr/bin/ls, so both spellings are asked.
     */
    static List<String> aliases(String path) {
        List<String> out = new ArrayList<>(List.of(path));
        for (String dir : List.of("/bin/", "/sbin/", "/lib/", "/lib32/", "/lib64/", "/libx32/")) {
            if (path.startsWith("/usr" + dir)) out.add(path.substring(4));
            else if (path.startsWith(dir)) out.add("/usr" + path);
        }
        return out;
    }

    /** Owner of every asked path and alias, from one dpkg-query run. */
    private Map<String, String> dpkgOwners(List<Check> checks) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("dpkg-query", "-S"));
        Set<String> dirs = packagedDirs();
        for (Check c : checks) {
            if (c.path() == null || !c.path().startsWith("/")) continue;
            for (String p : aliases(c.path())) {
                // No package put anything in that directory: dpkg cannot own the file, do not ask.
                if (dirs != null && !dirs.contains(parent(p))) continue;
                if (!cmd.contains(p)) cmd.add(p);
            }
        }
        if (cmd.size() == 2) return Map.of();
        Run r = run(cmd); // exits 1 when any path is unowned; the owned ones are still listed
        return dpkgOwners(r.out());
    }

    private PackageStatus dpkg(Check c, Map<String, String> owners, Map<String, Map<String, String>> md5sums)
            throws IOException {
        for (String p : aliases(c.path())) {
            String pkg = owners.get(p);
            if (pkg == null) continue;
            Map<String, String> sums = md5sums.get(pkg);
            if (sums == null) {
                sums = md5sums(pkg);
                md5sums.put(pkg, sums);
            }
            String expected = sums.get(p.substring(1));
            if (expected == null) return new PackageStatus.Unverifiable("dpkg", pkg, "no md5sum listed for " + p);
            String actual = FileDigest.hex(c.file(), "MD5");
            return expected.equalsIgnoreCase(actual) ? new PackageStatus.Matches("dpkg", pkg)
                    : new PackageStatus.Mismatch("dpkg", pkg);
        }
        return PackageStatus.UNOWNED;
    }

    /**
     * True when no package can own {@code path}, known without asking the
     * package manager: none is installed, or no package put any file in the
     * path's directory. Cheap enough for the drain thread.
     */
    public boolean surelyUnowned(String path) {
        if (manager == Manager.NONE || path == null || !path.startsWith("/")) return true;
        if (manager != Manager.DPKG) return false;
        Set<String> dirs = packagedDirs();
        if (dirs == null) return false;
        for (String p : aliases(path)) if (dirs.contains(parent(p))) return false;
        return true;
    }

    private static String parent(String path) {
        int slash = path.lastIndexOf('/');
        return slash <= 0 ? "/" : path.substring(0, slash);
    }

    /**
     * The directories of every file any package installed, read from dpkg's
     * {@code *.list} files (a tenth of a second) and again whenever dpkg's
     * status file changes. New executables outside them (in /tmp, a home, a
     * build tree) are then known to be unowned without running dpkg-query.
     * Null when the lists cannot be read: then dpkg-query is always asked.
     */
    synchronized Set<String> packagedDirs() {
        long stamp;
        try {
            stamp = Files.getLastModifiedTime(dpkgInfo.resolveSibling("status")).toMillis();
        } catch (IOException e) {
            return null;
        }
        if (dpkgDirs != null && stamp == dpkgDirsStamp) return dpkgDirs;
        Set<String> dirs = new HashSet<>();
        try (var lists = Files.newDirectoryStream(dpkgInfo, "*.list")) {
            for (Path list : lists) {
                for (String line : Files.readAllLines(list, StandardCharsets.UTF_8)) {
                    if (line.startsWith("/")) dirs.add(parent(line));
                }
            }
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "cannot read dpkg's file lists: " + e);
            return null;
        }
        dpkgDirs = Set.copyOf(dirs);
        dpkgDirsStamp = stamp;
        return dpkgDirs;
    }

    /**
     * Parses {@code dpkg-query -S} output, lines of {@code "pkg[:arch][, pkg2]: /path"},
     * into path → first owning package. Diversion lines are skipped.
     */
    static Map<String, String> dpkgOwners(String out) {
        Map<String, String> owners = new HashMap<>();
        for (String line : out.split("\n")) {
            if (line.startsWith("diversion by ")) continue;
            int sep = line.lastIndexOf(": /");
            if (sep < 0) continue;
            String pkgs = line.substring(0, sep).trim();
            int comma = pkgs.indexOf(',');
            owners.putIfAbsent(line.substring(sep + 2), (comma < 0 ? pkgs : pkgs.substring(0, comma)).trim());
        }
        return owners;
    }

    /** {@code pkg}'s md5sums file as relative path → md5 (empty when the package keeps none). */
    Map<String, String> md5sums(String pkg) throws IOException {
        List<Path> candidates = new ArrayList<>();
        candidates.add(dpkgInfo.resolve(pkg + ".md5sums"));
        if (!pkg.contains(":")) {
            try (var ds = Files.newDirectoryStream(dpkgInfo, pkg + ":*.md5sums")) {
                ds.forEach(candidates::add);
            }
        } else {
            candidates.add(dpkgInfo.resolve(pkg.substring(0, pkg.indexOf(':')) + ".md5sums"));
        }
        Map<String, String> sums = new HashMap<>();
        for (Path f : candidates) {
            if (!Files.isRegularFile(f)) continue;
            for (String line : Files.readAllLines(f, StandardCharsets.UTF_8)) {
                int sp = line.indexOf("  ");
                if (sp == 32) sums.putIfAbsent(line.substring(sp + 2), line.substring(0, 32));
            }
        }
        return sums;
    }

    private PackageStatus rpm(String path, NativeFile file, String sha256) throws IOException {
        for (String p : aliases(path)) {
            Run r = run(List.of("rpm", "-qf", "--qf", "%{NAME} %{FILEDIGESTALGO}\\n[%{FILEDIGESTS} %{FILENAMES}\\n]", p));
            if (r.exit() != 0) continue;
            String[] lines = r.out().split("\n");
            String[] head = lines[0].trim().split(" ");
            String pkg = head[0];
            String algo = switch (head.length > 1 ? head[1] : "") {
                case "1" -> "MD5";
                case "2" -> "SHA-1";
                case "8" -> "SHA-256";
                case "9" -> "SHA-384";
                case "10" -> "SHA-512";
                case "11" -> "SHA-224";
                default -> null;
            };
            for (int i = 1; i < lines.length; i++) {
                int sp = lines[i].indexOf(' ');
                if (sp < 0 || !lines[i].substring(sp + 1).equals(p)) continue;
                String expected = lines[i].substring(0, sp);
                if (expected.isEmpty() || algo == null) return new PackageStatus.Unverifiable("rpm", pkg, "no digest for " + p);
                String actual = algo.equals("SHA-256") ? sha256 : FileDigest.hex(file, algo);
                return expected.equalsIgnoreCase(actual) ? new PackageStatus.Matches("rpm", pkg)
                        : new PackageStatus.Mismatch("rpm", pkg);
            }
            return new PackageStatus.Unverifiable("rpm", pkg, "no digest for " + p);
        }
        return PackageStatus.UNOWNED;
    }

    record Run(int exit, String out) {
    }

    static Run run(List<String> cmd) throws IOException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD);
        pb.environment().put("LC_ALL", "C");
        Process p = pb.start();
        // Read on another thread so that a tool that hangs with a full pipe still meets the timeout.
        FutureTask<byte[]> out = new FutureTask<>(() -> p.getInputStream().readNBytes(4 << 20));
        Thread.ofVirtual().start(out);
        try {
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(cmd.getFirst() + " did not answer within " + TIMEOUT_SECONDS + " s");
            }
            return new Run(p.exitValue(), new String(out.get(TIMEOUT_SECONDS, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        } catch (ExecutionException | TimeoutException e) {
            p.destroyForcibly();
            throw new IOException("cannot read the output of " + cmd.getFirst() + ": " + e, e);
        }
    }
}

package io.peekd.identity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Maps the cgroup id the kernel reports ({@code bpf_get_current_cgroup_id}:
 * the inode of the cgroup's directory in the cgroup2 hierarchy) to its path.
 * Needed for processes that died before /proc could be read. The tree is
 * walked on a miss, at most once per {@link #RESCAN_NANOS}, and never deeper
 * than {@link #MAX_DIRS} directories, so a flood of unknown ids costs little.
 */
public final class CgroupIds {

    static final long RESCAN_NANOS = 1_000_000_000L;
    static final int MAX_DIRS = 200_000;

    private final Path mount; // null: no cgroup2 hierarchy, ids are never resolved
    private Map<Long, String> paths = Map.of();
    private long lastScan;

    public CgroupIds(Path cgroup2Mount) {
        this.mount = cgroup2Mount;
        this.lastScan = System.nanoTime() - RESCAN_NANOS;
    }

    /** Finds the cgroup2 mount in /proc/mounts; it is not always /sys/fs/cgroup (hybrid hosts use .../unified). */
    public static CgroupIds fromMounts() {
        return new CgroupIds(findCgroup2(Path.of("/proc/self/mounts")).orElse(null));
    }

    static Optional<Path> findCgroup2(Path mounts) {
        try {
            for (String line : new String(Files.readAllBytes(mounts), StandardCharsets.UTF_8).split("\n")) {
                String[] f = line.split(" ");
                if (f.length >= 3 && f[2].equals("cgroup2")) return Optional.of(Path.of(unescapeMount(f[1])));
            }
        } catch (IOException | RuntimeException e) {
            // no mounts table: behave as a host without cgroup2
        }
        return Optional.empty();
    }

    public Optional<Path> mount() {
        return Optional.ofNullable(mount);
    }

    /** The cgroup path ("/system.slice/foo.service") for an id, if it still exists. */
    public synchronized Optional<String> path(long id) {
        if (mount == null || id == 0) return Optional.empty();
        String p = paths.get(id);
        if (p == null && System.nanoTime() - lastScan >= RESCAN_NANOS) {
            rescan();
            p = paths.get(id);
        }
        return Optional.ofNullable(p);
    }

    private void rescan() {
        lastScan = System.nanoTime();
        Map<Long, String> found = new HashMap<>();
        try {
            Files.walkFileTree(mount, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    if (found.size() >= MAX_DIRS) return FileVisitResult.TERMINATE;
                    try {
                        long ino = ((Number) Files.getAttribute(dir, "unix:ino")).longValue();
                        String rel = mount.relativize(dir).toString();
                        found.put(ino, "/" + rel);
                    } catch (IOException | RuntimeException e) {
                        // removed while walking
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    return FileVisitResult.CONTINUE; // cgroups come and go during the walk
                }
            });
        } catch (IOException | RuntimeException e) {
            // keep what the walk found so far
        }
        paths = Map.copyOf(found);
    }

    /** /proc/mounts escapes space, tab, newline and backslash as octal. */
    private static String unescapeMount(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && i + 3 < s.length() && s.substring(i + 1, i + 4).chars().allMatch(d -> d >= '0' && d <= '7')) {
                b.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}

package io.peekd.identity;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads what {@code /proc} says about a process. Processes vanish at any
 * moment, so every read answers "empty" instead of throwing; callers treat
 * empty as "ask another source".
 */
public final class ProcFs {

    /** USER_HZ is 100 on every Linux ABI, so /proc start times are in 10 ms ticks. */
    public static final long NS_PER_TICK = 10_000_000L;

    private static final String DELETED = " (deleted)";

    private final Path root;

    public ProcFs() {
        this(Path.of("/proc"));
    }

    public ProcFs(Path root) {
        this.root = root;
    }

    public Path root() {
        return root;
    }

    /** The kernel's start_boottime (ns) as /proc reports it (ticks, rounded down). */
    public static long ticks(long startNs) {
        return startNs / NS_PER_TICK;
    }

    /** Fields of {@code /proc/<pid>/stat} that identity needs. */
    public record Stat(int pid, String comm, char state, int ppid, long startTicks) {
        public boolean startedAt(long startNs) {
            return startTicks == ticks(startNs);
        }
    }

    /** Fields of {@code /proc/<pid>/status}: real uid and parent. */
    public record Status(int tgid, int ppid, int uid) {
    }

    /**
     * The executable behind {@code /proc/<pid>/exe}.
     *
     * @param deleted the file was unlinked or replaced since exec (the kernel's
     *                " (deleted)" suffix, stripped from {@code path})
     * @param dev     st_dev in user-space encoding, or -1 when stat failed
     * @param ino     inode, or -1 when stat failed
     */
    public record Exe(String path, boolean deleted, long dev, long ino) {
    }

    /** argv as the process holds it now; {@link #display()} joins it for people. */
    public record Cmdline(List<String> argv) {
        public Cmdline {
            argv = List.copyOf(argv);
        }

        public String display() {
            return String.join(" ", argv);
        }
    }

    public Optional<Stat> stat(int pid) {
        return text(pid, "stat").flatMap(ProcFs::parseStat);
    }

    public Optional<Status> status(int pid) {
        return text(pid, "status").flatMap(ProcFs::parseStatus);
    }

    public Optional<Exe> exe(int pid) {
        Path link = dir(pid).resolve("exe");
        String target;
        try {
            target = io.peekd.bpf.Libc.readlink(link);
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // kernel thread, zombie, gone, or not ours to read
        }
        long dev = -1, ino = -1;
        try {
            // Follows the magic link to the very inode the process runs, even when unlinked.
            Map<String, Object> a = Files.readAttributes(link, "unix:dev,ino");
            dev = ((Number) a.get("dev")).longValue();
            ino = ((Number) a.get("ino")).longValue();
        } catch (IOException | RuntimeException e) {
            // path alone is still worth having
        }
        return Optional.of(parseExeLink(target, dev, ino));
    }

    public Optional<Cmdline> cmdline(int pid) {
        return bytes(pid, "cmdline").map(ProcFs::parseArgv).map(Cmdline::new);
    }

    /** Raw {@code /proc/<pid>/cgroup} text; see {@link Cgroups#pathOf(String)}. */
    public Optional<String> cgroup(int pid) {
        return text(pid, "cgroup");
    }

    /** Pids of all live processes (thread-group leaders). */
    public List<Integer> pids() {
        List<Integer> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root)) {
            for (Path p : ds) {
                String n = p.getFileName().toString();
                if (!n.isEmpty() && n.chars().allMatch(Character::isDigit)) {
                    try {
                        out.add(Integer.parseInt(n));
                    } catch (NumberFormatException ignored) {
                        // longer than an int: not a pid
                    }
                }
            }
        } catch (IOException | UncheckedIOException e) {
            // unreadable proc root: nothing to learn
        }
        return out;
    }

    /**
     * Everything about one process instance, read as one consistent picture:
     * stat is read before and after, and both must show the expected start
     * time, so a pid reused meanwhile is never mistaken for the original.
     *
     * @param startTicks expected start in ticks, or -1 to accept whoever holds the pid
     */
    public Optional<ProcSnapshot> snapshot(int pid, long startTicks) {
        Optional<Stat> before = stat(pid);
        if (before.isEmpty() || (startTicks >= 0 && before.get().startTicks() != startTicks)) return Optional.empty();
        Stat s = before.get();
        Optional<Status> status = status(pid);
        Optional<Exe> exe = exe(pid);
        Optional<Cmdline> cmd = cmdline(pid);
        Optional<String> cg = cgroup(pid);
        Optional<Stat> after = stat(pid);
        if (after.isEmpty() || after.get().startTicks() != s.startTicks() || status.isEmpty()) return Optional.empty();
        return Optional.of(new ProcSnapshot(pid, s.startTicks(), s.comm(), status.get().ppid(), status.get().uid(),
                exe.orElse(null), cmd.orElse(null), cg.map(Cgroups::pathOf).orElse(null)));
    }

    // ---- parsers (package-private so tests can feed them hostile text) ----

    static Optional<Stat> parseStat(String text) {
        // comm is free text (spaces, parens, newlines), but is capped at 15 bytes and
        // everything after it is numeric, so the LAST ')' is the true end of comm.
        int open = text.indexOf('(');
        int close = text.lastIndexOf(')');
        if (open < 0 || close < open) return Optional.empty();
        try {
            int pid = Integer.parseInt(text.substring(0, open).trim());
            String comm = text.substring(open + 1, close);
            String[] f = text.substring(close + 1).trim().split("\\s+");
            // f[0] is field 3 (state); field n is f[n - 3]
            if (f.length < 20 || f[0].isEmpty()) return Optional.empty();
            return Optional.of(new Stat(pid, comm, f[0].charAt(0), Integer.parseInt(f[1]), Long.parseLong(f[19])));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }

    static Optional<Status> parseStatus(String text) {
        int tgid = -1, ppid = -1, uid = -1;
        for (String line : text.split("\n")) {
            int colon = line.indexOf(':');
            if (colon < 0) continue;
            String key = line.substring(0, colon);
            String[] v = line.substring(colon + 1).trim().split("\\s+");
            try {
                switch (key) {
                    case "Tgid" -> tgid = Integer.parseInt(v[0]);
                    case "PPid" -> ppid = Integer.parseInt(v[0]);
                    case "Uid" -> uid = Integer.parseInt(v[0]); // real, effective, saved, fs: real comes first
                    default -> { }
                }
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
        return ppid < 0 || uid < 0 ? Optional.empty() : Optional.of(new Status(tgid, ppid, uid));
    }

    static Exe parseExeLink(String target, long dev, long ino) {
        boolean deleted = target.endsWith(DELETED);
        String path = deleted ? target.substring(0, target.length() - DELETED.length()) : target;
        return new Exe(path, deleted, dev, ino);
    }

    /** NUL-separated argv; empty arguments in the middle are real and kept. */
    static List<String> parseArgv(byte[] raw) {
        List<String> argv = new ArrayList<>();
        int start = 0;
        for (int i = 0; i < raw.length; i++) {
            if (raw[i] == 0) {
                argv.add(new String(raw, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        // A process that rewrote its title may leave no final NUL.
        if (start < raw.length) argv.add(new String(raw, start, raw.length - start, StandardCharsets.UTF_8));
        return argv;
    }

    private Path dir(int pid) {
        return root.resolve(Integer.toString(pid));
    }

    private Optional<byte[]> bytes(int pid, String file) {
        try {
            return Optional.of(Files.readAllBytes(dir(pid).resolve(file)));
        } catch (IOException | RuntimeException e) {
            return Optional.empty(); // ENOENT / ESRCH when the process is gone, EACCES when not ours
        }
    }

    private Optional<String> text(int pid, String file) {
        return bytes(pid, file).map(b -> new String(b, StandardCharsets.UTF_8));
    }
}

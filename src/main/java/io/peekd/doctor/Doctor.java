package io.peekd.doctor;

import io.peekd.bpf.BpfObject;
import io.peekd.bpf.Libc;
import io.peekd.capture.Capture;
import io.peekd.capture.KernelProbe;
import io.peekd.config.Config;
import io.peekd.store.Reader;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Checks everything peekd depends on, each as one {@link Check}. Nothing here
 * changes the system; the trial attach detaches at once.
 */
public final class Doctor {
    private static final long MIB = 1024 * 1024;
    private static final int CAP_NET_ADMIN = 12, CAP_SYS_PTRACE = 19, CAP_SYS_ADMIN = 21,
            CAP_DAC_READ_SEARCH = 2, CAP_PERFMON = 38, CAP_BPF = 39;
    /** Without these the programs cannot load or attach. */
    private static final Map<Integer, String> NEEDED_CAPS = Map.of(CAP_BPF, "CAP_BPF", CAP_PERFMON, "CAP_PERFMON",
            CAP_NET_ADMIN, "CAP_NET_ADMIN");
    /** Without these, other users' executables cannot be named or hashed. */
    private static final Map<Integer, String> IDENTITY_CAPS = Map.of(CAP_SYS_PTRACE, "CAP_SYS_PTRACE",
            CAP_DAC_READ_SEARCH, "CAP_DAC_READ_SEARCH");
    /** Where GeoIP databases usually are (Debian's geoipupdate, MaxMind's docs); data_dir is searched first. */

    private final Config config;
    private final Path userRuntimeBase;
    private final Path passwd;

    public Doctor(Config config) {
        this(config, Path.of("/run/user"), Path.of("/etc/passwd"));
    }

    /** With the parent of per-user runtime dirs ({@code /run/user}) and the passwd file given, for tests. */
    public Doctor(Config config, Path userRuntimeBase, Path passwd) {
        this.config = config;
        this.userRuntimeBase = userRuntimeBase;
        this.passwd = passwd;
    }

    public List<Check> run() {
        List<Check> out = new ArrayList<>();
        out.add(kernel());
        out.add(btf());
        out.add(privileges());
        out.add(libbpf());
        out.add(cgroup2());
        out.addAll(hooks());
        out.add(fanotify());
        out.add(dbus());
        out.add(mmdb());
        out.add(database());
        out.add(disk());
        return out;
    }

    static Check kernel() {
        String release = readTrim(Path.of("/proc/sys/kernel/osrelease")).orElse("unknown");
        Matcher m = Pattern.compile("^(\\d+)\\.(\\d+)").matcher(release);
        if (!m.find()) return Check.warn("kernel", release + " (version not understood)", "peekd needs Linux 6.3 or newer");
        int major = Integer.parseInt(m.group(1)), minor = Integer.parseInt(m.group(2));
        if (major > 6 || major == 6 && minor >= 3) return Check.ok("kernel", "Linux " + release);
        return Check.fail("kernel", "Linux " + release + " lacks the sock_send_length/sock_recv_length tracepoints",
                "upgrade to Linux 6.3 or newer");
    }

    static Check btf() {
        Path btf = Path.of("/sys/kernel/btf/vmlinux");
        if (Files.isReadable(btf)) return Check.ok("btf", btf.toString());
        return Check.fail("btf", btf + " is missing or unreadable",
                "use a kernel built with CONFIG_DEBUG_INFO_BTF=y (the stock kernels of Debian, Ubuntu, Fedora and Arch are)");
    }

    static Check privileges() {
        long eff = capEff();
        String who = Libc.geteuid() == 0 ? "root" : "not root";
        List<String> missing = missingCaps(eff, NEEDED_CAPS);
        if (!missing.isEmpty())
            return Check.fail("privileges", who + ", missing " + String.join(", ", missing),
                    Libc.geteuid() == 0 ? "run outside a restricted container, or allow them in the unit's CapabilityBoundingSet"
                            : "run as root (sudo peekd daemon), or through the systemd unit: peekd systemd");
        List<String> weak = missingCaps(eff, IDENTITY_CAPS);
        if (!weak.isEmpty())
            return Check.warn("privileges", who + ", missing " + String.join(", ", weak)
                    + ": other users' executables may go unnamed or unhashed", "grant them, as the unit from peekd systemd does");
        // CAP_SYS_RESOURCE only matters before Linux 5.11, where BPF maps count against RLIMIT_MEMLOCK.
        return Check.ok("privileges", who + " with the capabilities peekd needs");
    }

    private static List<String> missingCaps(long eff, Map<Integer, String> caps) {
        List<String> out = new ArrayList<>();
        caps.forEach((bit, name) -> {
            boolean has = (eff & (1L << bit)) != 0;
            // CAP_SYS_ADMIN stands in for CAP_BPF and CAP_PERFMON on kernels that predate them.
            if (!has && (bit == CAP_BPF || bit == CAP_PERFMON)) has = (eff & (1L << CAP_SYS_ADMIN)) != 0;
            if (!has) out.add(name);
        });
        out.sort(null);
        return out;
    }

    private static long capEff() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status")))
                if (l.startsWith("CapEff:")) return Long.parseUnsignedLong(l.substring(7).trim(), 16);
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
        return 0;
    }

    static Check libbpf() {
        try {
            String v = BpfObject.libbpfVersion();
            if (v.startsWith("0.")) return Check.fail("libbpf", "libbpf " + v, "install libbpf 1.0 or newer (apt-get install libbpf1)");
            return Check.ok("libbpf", "libbpf " + v);
        } catch (RuntimeException | ExceptionInInitializerError e) {
            return Check.fail("libbpf", "cannot load libbpf.so.1: " + e.getMessage(), "apt-get install libbpf1");
        }
    }

    static Check cgroup2() {
        return KernelProbe.cgroup2Mount().map(p -> Check.ok("cgroup2", "mounted at " + p))
                .orElse(Check.fail("cgroup2", "no cgroup2 file system is mounted", "mount -t cgroup2 none /sys/fs/cgroup"));
    }

    /** The hook set the probe picks, then a trial load and one line per hook. */
    static List<Check> hooks() {
        KernelProbe.Result probe;
        try {
            probe = KernelProbe.probe();
        } catch (KernelProbe.Unsupported e) {
            return List.of(Check.fail("hook set", "none: " + e.getMessage(), "see the lines above"));
        }
        List<Check> out = new ArrayList<>();
        out.add(Check.ok("hook set", probe.hookSet()));
        try {
            Capture.trialAttach(probe).forEach((hook, error) -> out.add(error == null
                    ? Check.ok("hook " + hook, "attached")
                    : optionalHook(hook, error)));
        } catch (RuntimeException e) {
            out.add(Check.fail("bpf load", shorten(e.getMessage()),
                    "the kernel's verifier refused peekd's programs; report the kernel version and this message"));
        }
        return out;
    }

    /** Hooks peekd runs without: a warning naming what is lost, not a failure. */
    private static Check optionalHook(String hook, String error) {
        return switch (hook) {
            case "on_gai_enter", "on_gai_exit" -> Check.warn("hook " + hook, error,
                    "domains then come from DNS answers, TLS SNI and HTTP Host only (no getaddrinfo evidence)");
            case "on_sock_release", "socket_slots" -> Check.warn("hook " + hook, error,
                    "counting stays exact but every call takes the slower hash-map path (no per-socket counter slots)");
            default -> Check.fail("hook " + hook, error,
                    "peekd cannot run with this hook missing; report the kernel version and this line");
        };
    }

    static Check fanotify() {
        String problem = Libc.fanotifyProblem();
        if (problem == null) return Check.ok("fanotify", "available");
        return Check.warn("fanotify", "fanotify_init failed: " + problem,
                "hashes are then re-checked by inode change time only; run as root with CAP_SYS_ADMIN for change notifications");
    }

    /** The desktop user's session bus, where notifications go. */
    Check dbus() {
        var desktop = config.desktop();
        if (!desktop.notifications()) return Check.ok("d-bus", "desktop notifications are off");
        Optional<Integer> uid = uidOf(desktop.user());
        if (uid.isEmpty())
            return Check.fail("d-bus", "desktop user '" + desktop.user() + "' does not exist",
                    "set [desktop] user to the account that logs in to the desktop");
        Path bus = userRuntimeBase.resolve(uid.get().toString()).resolve("bus");
        if (!Files.exists(bus))
            return Check.warn("d-bus", "no session bus for " + desktop.user() + " at " + bus + " (not logged in?)",
                    "set [desktop] user to the desktop's account, or notifications = false on a server");
        try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.connect(UnixDomainSocketAddress.of(bus));
            return Check.ok("d-bus", "session bus of " + desktop.user() + " at " + bus + " accepts connections");
        } catch (IOException e) {
            return Check.warn("d-bus", "session bus of " + desktop.user() + " at " + bus + " refuses connections: " + e.getMessage(),
                    "log in to the desktop as " + desktop.user() + ", or set notifications = false");
        }
    }

    private Optional<Integer> uidOf(String user) {
        try {
            for (String l : Files.readAllLines(passwd)) {
                String[] f = l.split(":");
                if (f.length > 2 && f[0].equals(user)) return Optional.of(Integer.parseInt(f[2]));
            }
        } catch (IOException | NumberFormatException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    /** The configured GeoIP files, opened for real: a file that merely exists proves nothing. */
    Check mmdb() {
        var g = config.geoip();
        if (!g.enabled()) return Check.ok("mmdb", "GeoIP lookups are off ([geoip] enabled = false)");
        boolean[] loaded;
        try (var geo = io.peekd.domain.GeoIp.open(g.countryDb(), g.asnDb())) {
            loaded = geo.loaded();
        }
        if (loaded[0] && loaded[1]) return Check.ok("mmdb", g.countryDb() + " and " + g.asnDb());
        if (loaded[0])
            return Check.ok("mmdb", g.countryDb() + " (no ASN database at " + g.asnDb() + ": asn and as_org stay empty)");
        return Check.warn("mmdb", "no readable GeoIP country database at " + g.countryDb()
                        + " (optional: the country column stays empty)",
                "run scripts/setup, or point [geoip] country_db at a GeoLite2-Country or DB-IP Lite .mmdb file");
    }

    Check database() {
        Path db = config.paths().db();
        if (!config.database().enabled()) return Check.ok("database", "off ([database] enabled = false)");
        if (!Files.exists(db)) return Check.ok("database", db + " not created yet (the daemon creates it)");
        try (Reader r = Reader.open(db)) {
            List<String> result = r.integrityCheck();
            if (result.equals(List.of("ok"))) return Check.ok("database", db + " passes the integrity check");
            return Check.fail("database", db + " is damaged: " + String.join("; ", result.subList(0, Math.min(3, result.size()))),
                    "stop peekd, move " + db + " aside (peekd starts a new one) and try sqlite3's .recover on the copy");
        } catch (RuntimeException e) {
            return Check.fail("database", "cannot read " + db + ": " + e.getMessage(),
                    "check its permissions; if it is damaged, stop peekd and move it aside");
        }
    }

    Check disk() {
        Path dir = config.paths().dataDir().toAbsolutePath();
        while (dir != null && !Files.exists(dir)) dir = dir.getParent();
        if (dir == null) return Check.fail("disk", "no existing directory above " + config.paths().dataDir(), "create it");
        try {
            FileStore fs = Files.getFileStore(dir);
            long free = fs.getUsableSpace();
            String found = free / MIB + " MiB free for " + config.paths().dataDir();
            if (free < 100 * MIB)
                return Check.fail("disk", found, "free space, or lower [database] retention_days; writes fail when it is full");
            if (free < 1024 * MIB) return Check.warn("disk", found, "free space soon, or lower [database] retention_days");
            return Check.ok("disk", found);
        } catch (IOException e) {
            return Check.fail("disk", "cannot measure " + dir + ": " + e.getMessage(), "check the mount");
        }
    }

    /** libbpf's log can run to pages; the line keeps its start and points to the whole. */
    static String shorten(String s) {
        if (s == null) return "unknown error";
        return s.length() <= 300 ? s : s.substring(0, 300) + "… (whole log: peekd daemon --log-level debug)";
    }

    private static Optional<String> readTrim(Path p) {
        try {
            return Optional.of(Files.readString(p).trim());
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}

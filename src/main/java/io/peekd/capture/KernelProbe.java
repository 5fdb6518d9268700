package io.peekd.capture;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * Decides, before anything is loaded, whether this kernel can run peekd and
 * with which hooks. A failure is one sentence naming the missing piece.
 */
public final class KernelProbe {
    private static final Path BTF = Path.of("/sys/kernel/btf/vmlinux");
    private static final int CAP_NET_ADMIN = 12, CAP_SYS_ADMIN = 21, CAP_PERFMON = 38, CAP_BPF = 39;

    /** Hook sets: the tracepoints of Linux 6.3+, or fexit on sock_sendmsg/sock_recvmsg before that. */
    public static final String TRACEPOINTS = "tracepoints", FEXIT = "fexit";

    /** What the probe found. */
    public record Result(String hookSet, Path cgroup2, String kernel) {
    }

    /** The kernel cannot run peekd; the message says why in one sentence. */
    public static final class Unsupported extends Exception {
        Unsupported(String message) {
            super(message);
        }
    }

    private KernelProbe() {
    }

    public static Result probe() throws Unsupported {
        String kernel = kernelRelease();
        // Capabilities, not the uid, decide: root inside a restricted container or
        // under a stripped bounding set cannot load BPF either.
        if (!hasCaps())
            throw new Unsupported("peekd needs root, or CAP_BPF, CAP_PERFMON and CAP_NET_ADMIN, to load its BPF programs.");
        if (!Files.isReadable(BTF))
            throw new Unsupported("this kernel (" + kernel + ") has no BTF at " + BTF
                    + ": peekd needs a kernel built with CONFIG_DEBUG_INFO_BTF=y.");
        String hookSet;
        try {
            byte[] btf = Files.readAllBytes(BTF);
            if (contains(btf, "btf_trace_sock_send_length") && contains(btf, "btf_trace_sock_recv_length"))
                hookSet = TRACEPOINTS;
            else if (contains(btf, "sock_sendmsg") && contains(btf, "sock_recvmsg"))
                hookSet = FEXIT; // Linux < 6.3: same accounting from fexit; Capture reports if the kernel refuses it
            else
                throw new Unsupported("this kernel (" + kernel + ") has neither the sock:sock_send_length tracepoint"
                        + " of Linux 6.3 nor BTF for sock_sendmsg, so peekd cannot see sends.");
        } catch (IOException e) {
            throw new Unsupported("cannot read " + BTF + ": " + e.getMessage());
        }
        Path cg = cgroup2Mount().orElseThrow(() -> new Unsupported(
                "no cgroup2 file system is mounted; peekd needs one (mount -t cgroup2 none /sys/fs/cgroup)."));
        return new Result(hookSet, cg, kernel);
    }

    /** The cgroup2 mount: /sys/fs/cgroup on most systems, /sys/fs/cgroup/unified on hybrid ones. */
    public static Optional<Path> cgroup2Mount() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/mounts"))) {
                String[] f = line.split(" ");
                if (f.length > 2 && f[2].equals("cgroup2")) return Optional.of(Path.of(f[1].replace("\\040", " ")));
            }
        } catch (IOException e) {
            return Optional.empty();
        }
        return Optional.empty();
    }

    static String kernelRelease() {
        try {
            return Files.readString(Path.of("/proc/sys/kernel/osrelease")).trim();
        } catch (IOException e) {
            return "unknown";
        }
    }

    private static boolean hasCaps() {
        try {
            List<String> status = Files.readAllLines(Path.of("/proc/self/status"));
            for (String l : status) {
                if (!l.startsWith("CapEff:")) continue;
                long caps = Long.parseUnsignedLong(l.substring(7).trim(), 16);
                boolean bpf = (caps & (1L << CAP_BPF)) != 0 && (caps & (1L << CAP_PERFMON)) != 0;
                boolean sys = (caps & (1L << CAP_SYS_ADMIN)) != 0;
                return (bpf || sys) && (caps & (1L << CAP_NET_ADMIN)) != 0;
            }
        } catch (IOException | NumberFormatException e) {
            return false;
        }
        return false;
    }

    private static boolean contains(byte[] hay, String needle) {
        byte[] n = needle.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        outer:
        for (int i = 0; i + n.length <= hay.length; i++) {
            if (hay[i] != n[0]) continue;
            for (int j = 1; j < n.length; j++) if (hay[i + j] != n[j]) continue outer;
            // BTF strings are NUL-terminated: require an exact name, not a prefix.
            if (i + n.length == hay.length || hay[i + n.length] == 0) return true;
        }
        return false;
    }
}

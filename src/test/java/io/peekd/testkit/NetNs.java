package io.peekd.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;

/**
 * A private network namespace joined to the host by a veth pair: a test peer
 * that only this test can reach. The host end gets {@code 10.231.X.Y+1/30} and
 * {@code fd77:7065:656b:N::1/64}, the namespace end {@code +2} and {@code ::2}.
 * No default route and no forwarding are added, so nothing inside can reach
 * beyond the pair, and the host reaches only the peer addresses through it.
 *
 * <p>Inside the namespace, {@code lo} is up and ping sockets are allowed for
 * every group, so ICMP tests can run there without touching the host.
 */
public final class NetNs implements AutoCloseable {

    /** 10.231.0.0/16 cut into /30s; index 0 is left out so no address ends in .0.0. */
    private static final int SUBNETS = 1 << 14;
    private static final Set<Integer> TAKEN = ConcurrentHashMap.newKeySet();
    private static final Set<NetNs> OPEN = ConcurrentHashMap.newKeySet();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration STEP_LIMIT = Duration.ofSeconds(20);

    static {
        // A test that dies before close() must still not leave namespaces behind.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> OPEN.forEach(NetNs::close), "netns-cleanup"));
    }

    private final String name, hostIf, peerIf;
    private final int index;
    private final InetAddress hostV4, peerV4, hostV6, peerV6;
    private final List<Process> started = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private NetNs(int index, String tag) {
        this.index = index;
        this.name = "peekd-" + tag;
        this.hostIf = "pk" + tag + "h"; // 11 characters: interface names stop at 15
        this.peerIf = "pk" + tag + "n";
        int base = (10 << 24) | (231 << 16) | (index << 2);
        this.hostV4 = v4(base + 1);
        this.peerV4 = v4(base + 2);
        this.hostV6 = v6(index, 1);
        this.peerV6 = v6(index, 2);
    }

    /**
     * Creates the namespace and its link, and verifies that the host routes the
     * peer's addresses through the new veth. Throws (leaving nothing behind) if
     * any step or the verification fails.
     */
    public static NetNs create() {
        IllegalStateException last = null;
        for (int attempt = 0; attempt < 3; attempt++) {
            int index = freeIndex();
            NetNs ns = new NetNs(index, HexFormat.of().toHexDigits(RANDOM.nextInt()));
            try {
                ns.setUp();
                return ns;
            } catch (IllegalStateException e) {
                ns.close(); // also frees the index
                // Another process may have claimed the same subnet at the same moment: try another.
                last = e;
            }
        }
        throw last;
    }

    private static int freeIndex() {
        String inUse = Exec.check("ip", "-o", "addr", "show").stdout();
        for (int tries = 0; tries < 1000; tries++) {
            int i = 1 + RANDOM.nextInt(SUBNETS - 1);
            boolean busy = IntStream.range(0, 4).anyMatch(k -> inUse.contains(
                    " 10.231." + (i >> 6) + "." + (((i & 63) << 2) + k) + "/"));
            if (!busy && TAKEN.add(i)) return i;
        }
        throw new IllegalStateException("no free /30 left in 10.231.0.0/16");
    }

    private void setUp() {
        OPEN.add(this);
        step("ip", "netns", "add", name);
        step("ip", "link", "add", hostIf, "type", "veth", "peer", "name", peerIf, "netns", name);
        step("ip", "addr", "add", hostV4.getHostAddress() + "/30", "dev", hostIf);
        step("ip", "-6", "addr", "add", hostV6.getHostAddress() + "/64", "dev", hostIf, "nodad");
        step("ip", "link", "set", hostIf, "up");
        step("ip", "-n", name, "link", "set", "lo", "up");
        step("ip", "-n", name, "addr", "add", peerV4.getHostAddress() + "/30", "dev", peerIf);
        step("ip", "-n", name, "-6", "addr", "add", peerV6.getHostAddress() + "/64", "dev", peerIf, "nodad");
        step("ip", "-n", name, "link", "set", peerIf, "up");
        // Namespaces start with ping sockets forbidden ("1 0"); this one is ours to open.
        step("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647");
        verifyRoute(List.of("ip", "route", "get", peerV4.getHostAddress()), hostIf);
        verifyRoute(List.of("ip", "-6", "route", "get", peerV6.getHostAddress()), hostIf);
        verifyRoute(List.of("ip", "-n", name, "route", "get", hostV4.getHostAddress()), peerIf);
        verifyRoute(List.of("ip", "-n", name, "-6", "route", "get", hostV6.getHostAddress()), peerIf);
    }

    private static void step(String... argv) {
        Exec.run(STEP_LIMIT, List.of(argv)).requireOk();
    }

    /** Traffic to the peer must leave through our veth, or a test could talk to a real network. */
    private static void verifyRoute(List<String> argv, String expectedDev) {
        String out = Exec.run(STEP_LIMIT, argv).requireOk().stdout();
        List<String> words = List.of(out.strip().split("\\s+"));
        int at = words.indexOf("dev");
        String dev = at >= 0 && at + 1 < words.size() ? words.get(at + 1) : null;
        if (!expectedDev.equals(dev)) {
            throw new IllegalStateException("`" + String.join(" ", argv) + "` routes via " + dev
                    + ", not " + expectedDev + ": " + out.strip());
        }
    }

    public String name() {
        return name;
    }

    /** The veth end in the host's namespace. */
    public String hostIf() {
        return hostIf;
    }

    /** The veth end inside this namespace. */
    public String peerIf() {
        return peerIf;
    }

    public InetAddress hostV4() {
        return hostV4;
    }

    public InetAddress peerV4() {
        return peerV4;
    }

    public InetAddress hostV6() {
        return hostV6;
    }

    public InetAddress peerV6() {
        return peerV6;
    }

    /** {@code ip netns exec NAME}: put it in front of a command to run that command inside. */
    public List<String> prefix() {
        return List.of("ip", "netns", "exec", name);
    }

    /** Runs a command inside the namespace to its end (30 s limit). */
    public Exec exec(String... argv) {
        return exec(Duration.ofSeconds(30), argv);
    }

    public Exec exec(Duration limit, String... argv) {
        return Exec.run(limit, inside(List.of(argv)));
    }

    /**
     * Starts a command inside the namespace with its output discarded (inheriting it
     * would write into surefire's channel). {@link #close()} kills it if it still runs.
     */
    public Process start(String... argv) {
        return start(new ProcessBuilder(inside(List.of(argv))).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())));
    }

    /** Starts a prepared builder whose command already includes {@link #prefix()}. */
    Process start(ProcessBuilder pb) {
        try {
            Process p = pb.start();
            started.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + pb.command(), e);
        }
    }

    List<String> inside(List<String> argv) {
        if (closed) throw new IllegalStateException(name + " is closed");
        List<String> all = new ArrayList<>(prefix());
        all.addAll(argv);
        return all;
    }

    /**
     * Kills what runs inside, then deletes the veth pair and the namespace.
     * Safe to call twice and after a failed setup; errors are collected, not thrown,
     * because close() must never hide the failure that led to it.
     */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        started.forEach(Exec::kill);
        // Processes entered by other means would keep the namespace (and the veth) alive.
        Exec pids = Exec.run(STEP_LIMIT, List.of("ip", "netns", "pids", name));
        if (pids.ok()) {
            pids.stdout().lines().map(String::strip).filter(s -> !s.isEmpty())
                    .forEach(pid -> ProcessHandle.of(Long.parseLong(pid)).ifPresent(ProcessHandle::destroyForcibly));
        }
        // Deleting one end of a veth deletes both; do it explicitly in case the namespace lingers.
        Exec.run(STEP_LIMIT, List.of("ip", "link", "del", hostIf));
        Exec.run(STEP_LIMIT, List.of("ip", "netns", "del", name));
        TAKEN.remove(index);
        OPEN.remove(this);
    }

    /** True while the namespace's name is still registered (for tests of the cleanup). */
    public boolean exists() {
        return Exec.run(STEP_LIMIT, List.of("ip", "netns", "list")).stdout().lines()
                .anyMatch(l -> l.equals(name) || l.startsWith(name + " "));
    }

    @Override
    public String toString() {
        return name + "[" + hostIf + " " + hostV4.getHostAddress() + " <-> " + peerIf + " "
                + peerV4.getHostAddress() + "]";
    }

    /**
     * An address as {@code ip} and tgen print it (RFC 5952: {@code fd77:7065:656b:5ce::1}),
     * where {@link InetAddress#getHostAddress()} would print every zero group.
     */
    public static String text(InetAddress a) {
        return io.peekd.config.Cidr.text(a);
    }

    private static InetAddress v4(int a) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) (a >>> 24), (byte) (a >>> 16), (byte) (a >>> 8), (byte) a});
        } catch (UnknownHostException e) {
            throw new AssertionError(e); // four bytes are always valid
        }
    }

    private static InetAddress v6(int subnet, int host) {
        byte[] b = new byte[16];
        byte[] prefix = {(byte) 0xfd, 0x77, 0x70, 0x65, 0x65, 0x6b};
        System.arraycopy(prefix, 0, b, 0, 6);
        b[6] = (byte) (subnet >>> 8);
        b[7] = (byte) subnet;
        b[15] = (byte) host;
        try {
            return InetAddress.getByAddress(b);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}

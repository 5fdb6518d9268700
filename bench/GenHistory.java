import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.Store;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Writes a synthetic history as a busy desktop would leave it: N flow-windows of 5 s over
 * the last D days, through peekd's real writer (so the rollups and indexes are the real
 * ones). Run with bench/run.sh.
 *
 * Cardinalities, chosen from what a developer desktop shows in a month:
 *   ~160 executables (a few dozen busy: browser, mail, chat, package manager, IDE, sync),
 *   ~600 process identities (command lines, parents), 3 users, 2 containers;
 *   ~6000 domains with Zipf popularity, each on 1..4 of ~9000 addresses;
 *   ports: 443 mostly, then 80, 53, 22, 993, 5222...; ephemeral local ports;
 *   connections last a geometric number of windows (mean ~6), ~19 rows per window.
 *
 * usage: GenHistory DB ROWS DAYS [SEED]
 */
public final class GenHistory {

    /** A process identity, how often it talks, and the destinations it talks to (indexes into the domain table). */
    record Proc(Identity id, double weight, int[] home) {
    }

    record Conn(Proc p, String proto, int family, String laddr, int lport, String raddr, int rport, String domain,
                int windowsLeft, long bytesScale) {
    }

    public static void main(String[] args) throws Exception {
        Path db = Path.of(args[0]);
        long rows = Long.parseLong(args[1]);
        int days = Integer.parseInt(args[2]);
        long seed = args.length > 3 ? Long.parseLong(args[3]) : 42;
        Files.deleteIfExists(db);
        Random rnd = new Random(seed);

        // Executables and process identities.
        String[] users = {"alice", "root", "bob"};
        int[] uids = {1000, 0, 1001};
        List<Proc> procs = new ArrayList<>();
        for (int e = 0; e < 160; e++) {
            String exe = e < 20 ? new String[] {"/usr/lib/firefox/firefox", "/usr/bin/thunderbird", "/usr/bin/signal-desktop",
                    "/usr/bin/apt", "/usr/share/code/code", "/usr/bin/dropbox", "/usr/bin/ssh", "/usr/bin/curl", "/usr/bin/git",
                    "/usr/lib/slack/slack", "/usr/bin/spotify", "/usr/sbin/chronyd", "/usr/lib/systemd/systemd-resolved",
                    "/usr/bin/python3.11", "/usr/bin/node", "/usr/bin/docker", "/usr/bin/containerd", "/usr/bin/wget",
                    "/usr/lib/evolution/evolution-source-registry", "/usr/bin/gnome-software"}[e]
                    : "/usr/bin/tool-" + e;
            String name = exe.substring(exe.lastIndexOf('/') + 1);
            String sha = String.format("%064x", new java.math.BigInteger(256, rnd));
            // Popularity falls off quickly: a few programs move most flows.
            double weight = 1.0 / Math.pow(e + 1, 1.1);
            int variants = e < 20 ? 12 : 2;
            for (int v = 0; v < variants; v++) {
                int u = e == 11 || e == 12 ? 1 : rnd.nextInt(10) < 8 ? 0 : rnd.nextInt(3);
                String container = e == 15 || e == 16 ? (v % 2 == 0 ? "web" : "db") : null;
                Identity id = new Identity(exe, name, name + " --profile " + v + (v % 3 == 0 ? " --type=renderer" : ""),
                        sha, 0, "/usr/lib/systemd/systemd", "systemd", "/sbin/init", "00".repeat(32), 1, uids[u], users[u],
                        "/user.slice/user-" + uids[u] + ".slice/app-" + name + ".scope", container);
                // Browsers go everywhere; other programs talk to a handful of their own servers.
                int[] home = e == 0 || e == 13 || e == 14 ? null : new int[2 + (e * 7919 + 13) % 18];
                if (home != null) {
                    for (int h = 0; h < home.length; h++) {
                        home[h] = (e * 131 + h * 977) % 6000;
                    }
                }
                procs.add(new Proc(id, weight / variants, home));
            }
        }
        double total = procs.stream().mapToDouble(Proc::weight).sum();

        // Domains and the addresses they resolve to.
        int nDomains = 6000;
        String[] domains = new String[nDomains];
        String[][] addrs = new String[nDomains][];
        String[] tlds = {"com", "net", "org", "io", "de", "co.uk"};
        for (int d = 0; d < nDomains; d++) {
            String base = "site" + d + "." + tlds[d % tlds.length];
            domains[d] = d % 3 == 0 ? "www." + base : d % 3 == 1 ? "cdn" + d % 17 + "." + base : base;
            int k = 1 + rnd.nextInt(4);
            addrs[d] = new String[k];
            for (int i = 0; i < k; i++) {
                int a = rnd.nextInt(9000);
                addrs[d][i] = a % 5 == 0 ? String.format("2a00:1450:%x::%x", a % 4096, a) : "93." + (a / 256 % 256) + "." + a % 256 + "." + (a % 200 + 1);
            }
        }
        // The port follows the destination: most are HTTPS, some plain HTTP, mail, chat, ssh.
        int[] ports = {443, 443, 443, 443, 443, 443, 443, 443, 443, 443, 443, 443, 80, 80, 993, 5222, 22, 8080, 123, 53};
        int[] domainPort = new int[nDomains];
        for (int d = 0; d < nDomains; d++) {
            domainPort[d] = ports[(int) ((d * 2654435761L) % ports.length)];
        }

        long windowSeconds = 5;
        Instant end = Instant.now().minusSeconds(60);
        long windows = Duration.ofDays(days).toSeconds() / windowSeconds;

        Instant start = end.minusSeconds(windows * windowSeconds);
        start = Instant.ofEpochSecond(start.getEpochSecond() - start.getEpochSecond() % windowSeconds);

        ArrayDeque<Conn> open = new ArrayDeque<>();
        long written = 0;
        int pid = 1000;
        long t0 = System.nanoTime();
        Store.Options opts = new Store.Options(64, Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofMillis(250),
                Duration.ofSeconds(30), Duration.ofMinutes(10));
        try (Store store = Store.open(db, opts)) {
            List<FlowRow> batch = new ArrayList<>(4096);
            for (long w = 0; w < windows && written < rows; w++) {
                Instant t = start.plusSeconds(w * windowSeconds);
                // Daytime is busier than night: the count follows the hour of the day.
                int hour = (int) (t.getEpochSecond() / 3600 % 24);
                double load = hour >= 8 && hour < 23 ? 1.35 : 0.45;
                // Rows per window from what is left to write, so the history ends where it should.
                double perWindow = (double) (rows - written) / (windows - w);
                int n = (int) Math.round(perWindow * load * (0.7 + 0.6 * rnd.nextDouble()));
                List<Conn> active = new ArrayList<>(open);
                open.clear();
                while (active.size() < n) {
                    double x = rnd.nextDouble() * total;
                    Proc p = procs.getLast();
                    for (Proc q : procs) {
                        x -= q.weight();
                        if (x <= 0) {
                            p = q;
                            break;
                        }
                    }
                    int d = p.home() == null
                            ? (int) Math.min(nDomains - 1, Math.floor(Math.pow(rnd.nextDouble(), 3) * nDomains))
                            : p.home()[(int) Math.floor(Math.pow(rnd.nextDouble(), 2) * p.home().length)];
                    String raddr = addrs[d][rnd.nextInt(addrs[d].length)];
                    boolean v6 = raddr.contains(":");
                    int rport = domainPort[d];
                    boolean udp = rport == 53 || rport == 123;
                    Identity id = p.id();
                    Identity withPid = new Identity(id.exe(), id.name(), id.cmdline(), id.sha256(), pid + rnd.nextInt(40),
                            id.pexe(), id.pname(), id.pcmdline(), id.psha256(), 1, id.uid(), id.user(), id.cgroup(),
                            id.container());
                    int life = 1 + (int) Math.floor(Math.log(1 - rnd.nextDouble()) / Math.log(1 - 1.0 / 6));
                    active.add(new Conn(new Proc(withPid, 0, null), udp ? "udp" : "tcp", v6 ? 6 : 4, v6 ? "2001:db8::2" : "192.168.1.20",
                            32768 + rnd.nextInt(28231), raddr, rport, rnd.nextInt(20) == 0 ? null : domains[d], life,
                            1L << rnd.nextInt(20)));
                }
                if (rnd.nextInt(1000) == 0) {
                    pid += 40; // programs restart now and then
                }
                for (Conn c : active) {
                    long sent = 40 + (long) (rnd.nextDouble() * c.bytesScale() / 8);
                    long recv = 40 + (long) (rnd.nextDouble() * c.bytesScale());
                    batch.add(new FlowRow(t, c.p().id(), c.proto(), c.family(), c.laddr(), c.lport(), c.raddr(), c.rport(),
                            c.domain(), c.domain() == null ? null : "dns", c.domain() == null ? null : "high", sent, recv,
                            c.windowsLeft() == 1 ? 1 : 0));
                    written++;
                    if (c.windowsLeft() > 1) {
                        open.add(new Conn(c.p(), c.proto(), c.family(), c.laddr(), c.lport(), c.raddr(), c.rport(), c.domain(),
                                c.windowsLeft() - 1, c.bytesScale()));
                    }
                }
                // Many windows per transaction: the same rows as the daemon's one-per-window, written faster.
                if (batch.size() >= 4000) {
                    while (!store.writer().submit(batch)) {
                        Thread.sleep(10);
                    }
                    batch.clear();
                }
                if (w % 50_000 == 0 && w > 0) {
                    double s = (System.nanoTime() - t0) / 1e9;
                    System.err.printf("%,d rows, %.0f s, %.0f rows/s%n", written, s, written / s);
                }
            }
            if (!batch.isEmpty()) {
                store.writer().submit(batch);
            }
            store.writer().flush();
        }
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.printf("wrote %,d flow-windows over %d days (%s .. %s) in %.0f s (%.0f rows/s)%n", written, days, start,
                end, s, written / s);
    }
}

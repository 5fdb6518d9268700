package io.peekd.web;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.Store;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

/**
 * A real peekd database, written by the real store, with rows whose sums the tests know:
 * a handful of processes (with parents, users, a container) talking to a handful of remote
 * endpoints at times from minutes to ten days ago.
 */
public final class TestDb {
    static final Identity CURL = id("/usr/bin/curl", "curl", "curl -s https://example.org/", "a1", 4101,
            "/usr/bin/bash", "bash", 1000, "alice", null);
    static final Identity FIREFOX = id("/usr/lib/firefox/firefox", "firefox", "/usr/lib/firefox/firefox", "b2", 2200,
            "/usr/lib/systemd/systemd", "systemd", 1000, "alice", null);
    static final Identity WGET = id("/usr/bin/wget", "wget", "wget -q http://192.0.2.10/x", "c3", 4300,
            "/usr/bin/bash", "bash", 0, "root", "web");
    static final Identity SSHD = id("/usr/sbin/sshd", "sshd", "sshd: alice [priv]", "d4", 900,
            "/usr/lib/systemd/systemd", "systemd", 0, "root", null);
    static final Identity EVIL = id("/tmp/=cmd|calc", "<img src=x onerror=alert(1)>", "=HYPERLINK(\"x\")", "e5", 6666,
            "/usr/bin/bash", "bash", 1000, "alice", null);

    final Path file;
    final List<FlowRow> rows;
    final Instant now;

    private TestDb(Path file, List<FlowRow> rows, Instant now) {
        this.file = file;
        this.rows = rows;
        this.now = now;
    }

    static Identity id(String exe, String name, String cmd, String hash, int pid, String pexe, String pname, int uid,
                       String user, String container) {
        return new Identity(exe, name, cmd, hash.repeat(32), pid, pexe, pname, "-" + pname, "ff".repeat(32), pid - 1,
                uid, user, container == null ? null : "/system.slice/docker-" + container + ".scope", container);
    }

    static FlowRow row(Instant t, Identity id, String proto, int family, String raddr, int rport, String domain,
                       long sent, long recv) {
        String laddr = raddr == null ? null : family == 6 ? "2001:db8::2" : "10.0.0.2";
        return new FlowRow(t, id, proto, family, laddr, raddr == null ? -1 : 40000 + id.pid() % 1000, raddr, rport,
                domain, domain == null ? null : "dns", domain == null ? null : "high", sent, recv, 1);
    }

    /** Writes the rows into {@code dir/data/peekd.db} through the store, and waits until they are committed. */
    public static TestDb create(Path dataDir) throws Exception {
        Instant now = Instant.ofEpochSecond(Instant.now().getEpochSecond() / 60 * 60);
        List<FlowRow> rows = new ArrayList<>();
        // Within the last hour.
        for (int i = 0; i < 12; i++) {
            Instant t = now.minus(Duration.ofMinutes(5L * i + 1));
            rows.add(row(t, CURL, "tcp", 4, "93.184.216.34", 443, "example.org", 1_000 + i, 50_000 + 10 * i));
            rows.add(row(t, FIREFOX, "tcp", 6, "2606:4700::6810:84e5", 443, "cdn.example.net", 20_000 + i, 3_000_000 + i));
        }
        rows.add(row(now.minus(Duration.ofMinutes(30)), SSHD, "tcp", 4, "198.51.100.7", 22, null, 777_777, 12_345));
        rows.add(row(now.minus(Duration.ofMinutes(20)), FIREFOX, "udp", 4, "203.0.113.53", 53, null, 120, 480));
        rows.add(row(now.minus(Duration.ofMinutes(10)), EVIL, "tcp", 4, "203.0.113.66", 8080, "x.example", 66, 99));
        // Five hours ago.
        for (int i = 0; i < 6; i++) {
            Instant t = now.minus(Duration.ofHours(5)).plusSeconds(60L * i);
            rows.add(row(t, WGET, "tcp", 4, "192.0.2.10", 80, null, 300, 1_500_000));
        }
        rows.add(row(now.minus(Duration.ofHours(5)), FIREFOX, "icmp", 0, null, -1, null, 64, 64));
        // Two days and ten days ago: outside the default 24 h.
        for (int i = 0; i < 4; i++) {
            rows.add(row(now.minus(Duration.ofDays(2)).plusSeconds(3600L * i), CURL, "tcp", 4, "93.184.216.34", 443,
                    "example.org", 5_000, 250_000));
        }
        rows.add(row(now.minus(Duration.ofDays(10)), SSHD, "tcp", 4, "198.51.100.7", 22, null, 1_000_000, 1_000_000));
        Path db = dataDir.resolve("peekd.db");
        try (Store s = Store.open(db)) {
            if (!s.writer().submit(rows)) throw new IllegalStateException("store queue full");
            s.writer().flush(Duration.ofSeconds(30));
        }
        return new TestDb(db, List.copyOf(rows), now);
    }

    /** [sent, recv, conns] over the rows that match. */
    long[] sums(Predicate<FlowRow> p) {
        long[] s = new long[3];
        for (FlowRow r : rows) {
            if (p.test(r)) {
                s[0] += r.sent();
                s[1] += r.recv();
                s[2] += r.conns();
            }
        }
        return s;
    }

    static Predicate<FlowRow> since(Instant from) {
        return r -> !r.time().isBefore(from);
    }
}

package io.peekd.tui;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.Store;

/**
 * A test history written through the real store, with sums the tests know. Times are
 * relative to "now", so the time ranges pick known rows:
 *
 * <pre>
 * process       when      sent     recv      remote
 * curl          -15 s     1000    20000      93.184.216.34:443  example.org
 * curl          -90 min     500     7000      93.184.216.34:443  example.org
 * wget          -5 s       300  1000000      198.51.100.7:80    download.test  (container web, root)
 * wget          -3 d       100      200      198.51.100.7:80    download.test
 * hostile       -7 min      42       43      203.0.113.9:6667   (none)         (bob)
 * sshd          -40 d     5000     6000      192.0.2.50:51000   (none)         (local port 22)
 * </pre>
 */
final class ViewDb {

    static final String CURL_SHA = "aa".repeat(32);
    static final String WGET_SHA = "cc".repeat(32);
    static final String BASH_SHA = "bb".repeat(32);
    /** A name and command line full of terminal escapes, as a hostile process could choose them. */
    static final String EVIL_EXE = "/tmp/evil\u001b[2J\u001b[H";
    static final String EVIL_NAME = "ev\u001b]0;pwned\u0007il";
    static final String EVIL_CMD = "line1\nline2\u202eevil\tx";

    static final long SENT_ALL = 1000 + 500 + 300 + 100 + 42 + 5000;
    static final long RECV_ALL = 20000 + 7000 + 1000000 + 200 + 43 + 6000;

    private ViewDb() {
    }

    static Identity curl() {
        return new Identity("/usr/bin/curl", "curl", "curl https://example.org", CURL_SHA, 4242,
                "/usr/bin/bash", "bash", "-bash", BASH_SHA, 100, 1000, "alice", null, null);
    }

    static Identity wget() {
        return new Identity("/usr/bin/wget", "wget", "wget -q https://download.test/big", WGET_SHA, 4343,
                "/usr/sbin/cron", "cron", "/usr/sbin/cron -f", "dd".repeat(32), 1, 0, "root",
                "/system.slice/web.scope", "web");
    }

    static Identity evil() {
        return new Identity(EVIL_EXE, EVIL_NAME, EVIL_CMD, "ee".repeat(32), 6666,
                "/usr/bin/bash", "bash", "-bash", BASH_SHA, 100, 1001, "bob", null, null);
    }

    static Identity sshd() {
        return new Identity("/usr/sbin/sshd", "sshd", "sshd: alice [priv]", "ff".repeat(32), 700,
                "/usr/sbin/sshd", "sshd", "/usr/sbin/sshd -D", "ff".repeat(32), 1, 0, "root", null, null);
    }

    static FlowRow row(Instant t, Identity id, String laddr, int lport, String raddr, int rport, String domain,
                       long sent, long recv) {
        return new FlowRow(t, id, "tcp", 4, laddr, lport, raddr, rport, domain, domain == null ? null : "dns",
                domain == null ? null : "high", sent, recv, 1);
    }

    /** Writes the table above into {@code dbFile}, with "now" being {@code now}. */
    static void write(Path dbFile, Instant now) throws Exception {
        Instant t = now.truncatedTo(java.time.temporal.ChronoUnit.SECONDS);
        List<FlowRow> rows = new ArrayList<>();
        rows.add(row(t.minusSeconds(15), curl(), "10.0.0.1", 40000, "93.184.216.34", 443, "example.org", 1000, 20000));
        rows.add(row(t.minus(Duration.ofMinutes(90)), curl(), "10.0.0.1", 40001, "93.184.216.34", 443, "example.org",
                500, 7000));
        rows.add(row(t.minusSeconds(5), wget(), "10.0.0.1", 40002, "198.51.100.7", 80, "download.test", 300,
                1_000_000));
        rows.add(row(t.minus(Duration.ofDays(3)), wget(), "10.0.0.1", 40003, "198.51.100.7", 80, "download.test",
                100, 200));
        rows.add(row(t.minus(Duration.ofMinutes(7)), evil(), "10.0.0.1", 40004, "203.0.113.9", 6667, null, 42, 43));
        rows.add(row(t.minus(Duration.ofDays(40)), sshd(), "10.0.0.1", 22, "192.0.2.50", 51000, null, 5000, 6000));
        append(dbFile, rows);
    }

    /**
     * Adds {@code n} more flow rows in one statement (far faster than the writer, which a
     * test would wait minutes for), spread over the last day, many remote addresses and
     * domains, so that grouping them takes the query a while. The rows go in in index order
     * (time, then pid), which keeps the insert fast. Returns their sums.
     */
    static long[] bulk(Path dbFile, int n, Instant now) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + dbFile);
             Statement st = c.createStatement()) {
            st.execute("PRAGMA busy_timeout = 10000");
            // A scratch database: no need to survive a power cut mid-insert.
            st.execute("PRAGMA synchronous = OFF");
            st.execute("PRAGMA cache_size = -262144");
            st.executeUpdate("""
                    WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < %d)
                    INSERT INTO flows (time, ident_id, pid, ppid, proto, family, laddr, lport, raddr, rport,
                                       domain, domain_source, domain_confidence, sent, recv, conns)
                    SELECT %d - 86400 + (x * 86400 / %d), (SELECT min(id) FROM idents), 100000 + x, 1, 'udp', 4, '10.0.0.1',
                           x %% 65536, '10.9.' || ((x / 256) %% 256) || '.' || (x %% 256), 53,
                           'host' || (x %% 100000) || '.bulk.test', 'dns', 'high', x %% 1000, x %% 7000, 1
                    FROM n""".formatted(n, now.getEpochSecond(), n));
            try (ResultSet rs = st.executeQuery("SELECT sum(sent), sum(recv) FROM flows WHERE pid > 100000")) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getLong(2)};
            }
        }
    }

    static void append(Path dbFile, List<FlowRow> rows) throws Exception {
        Files.createDirectories(dbFile.getParent());
        try (Store s = Store.open(dbFile)) {
            assertThat(s.writer().submit(rows)).isTrue();
            assertThat(s.writer().flush(Duration.ofSeconds(60))).isTrue();
        }
    }
}

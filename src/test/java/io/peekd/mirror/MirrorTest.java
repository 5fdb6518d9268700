package io.peekd.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.peekd.config.Config;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.DbOps;
import io.peekd.store.Outbox;
import io.peekd.store.Reader;
import io.peekd.store.Store;
import io.peekd.testkit.DbServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The mirror against real PostgreSQL and MariaDB servers that the test starts, crashes and
 * restarts itself. Every row stored locally must arrive exactly once, in order.
 */
class MirrorTest {

    @TempDir
    Path dir;

    static final Instant T0 = Instant.parse("2026-07-01T00:00:00Z");
    private final AtomicInteger next = new AtomicInteger();
    private final List<String> errors = Collections.synchronizedList(new ArrayList<>());

    /** A batch of distinct rows (no two merge locally), so rows stored = rows mirrored. */
    List<FlowRow> batch(int n) {
        List<FlowRow> rows = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            int k = next.incrementAndGet();
            Identity id = new Identity("/usr/bin/app" + k % 7, "app" + k % 7, "app --n " + k, "ef".repeat(32),
                    1000 + k, "/usr/lib/systemd/systemd", "systemd", null, null, 1, k % 3 == 0 ? 0 : 1000,
                    k % 3 == 0 ? "root" : "alice", "/user.slice", k % 5 == 0 ? "web" : null);
            // every 4th row as stored with log_addresses = false and log_ports = false
            boolean priv = k % 4 == 0;
            rows.add(new FlowRow(T0.plusSeconds(k), id, "tcp", 4, priv ? null : "10.0.0.1", priv ? -1 : 40000 + k % 1000,
                    priv ? null : "192.0.2." + k % 200, priv ? -1 : 443, k % 2 == 0 ? "example.org" : null, "dns", "high",
                    k, 2L * k, 1));
        }
        return rows;
    }

    Config.Database.Server cfg(DbServer s, String user, String password, Path credentials) {
        return new Config.Database.Server(s.type(), "127.0.0.1", s.port(), "peekd", user, password, credentials,
                "peekd_flows", "test-host", 50);
    }

    static void await(String what, Mirror m, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (!done.getAsBoolean()) {
            assertThat(System.nanoTime()).as("timed out waiting for: " + what).isLessThan(deadline);
            if (m != null) m.nudge(); // skip the backoff wait; the server may be back
            Thread.sleep(200);
        }
    }

    static long outbox(Store s) {
        try (Reader r = s.reader()) {
            return r.tableStats().table("outbox").rows();
        }
    }

    static long[] serverTotals(DbServer srv) throws Exception {
        try (Connection c = srv.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*), count(DISTINCT seq), min(seq), max(seq), sum(sent), sum(recv),"
                     + " sum(CASE WHEN laddr IS NULL THEN 1 ELSE 0 END) FROM peekd_flows")) {
            rs.next();
            return new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3), rs.getLong(4), rs.getLong(5), rs.getLong(6),
                    rs.getLong(7)};
        }
    }

    static long serverCount(DbServer srv) {
        try {
            return serverTotals(srv)[0];
        } catch (Exception e) {
            return -1; // down, or the table not created yet
        }
    }

    void downAtStartKilledMidStreamAndBack(DbServer srv) throws Exception {
        long sent = 0, recv = 0, rows = 0, privateRows = 0;
        try (srv; Store store = Store.open(dir.resolve("peekd.db"))) {
            DbOps.setOutbox(store.writer(), true);
            Mirror m = Mirror.start(cfg(srv, DbServer.USER, DbServer.PASSWORD, null), store, errors::add);
            try {
                // 1. The server is not there yet: rows wait in the outbox, the store works on.
                for (int i = 0; i < 10; i++) {
                    List<FlowRow> b = batch(20);
                    assertThat(store.writer().submit(b)).isTrue();
                    for (FlowRow r : b) {
                        sent += r.sent();
                        recv += r.recv();
                        rows++;
                        privateRows += r.laddr() == null ? 1 : 0;
                    }
                }
                store.writer().flush(Duration.ofSeconds(30));
                await("a delivery failure", null, () -> !errors.isEmpty());
                assertThat(errors.getFirst()).contains("mirror to " + srv.type()).contains("Nothing is lost");
                assertThat(outbox(store)).isEqualTo(200);
                assertThat(m.rowsSent()).isZero();

                // 2. It comes up: everything waiting arrives.
                srv.start();
                await("200 rows on the server", m, () -> outbox(store) == 0);
                assertThat(serverCount(srv)).isEqualTo(200);
                assertThat(errors).last().asString().contains("works again");

                // 3. Killed while rows stream in, then back.
                for (int i = 0; i < 40; i++) {
                    List<FlowRow> b = batch(15);
                    assertThat(store.writer().submit(b)).isTrue();
                    for (FlowRow r : b) {
                        sent += r.sent();
                        recv += r.recv();
                        rows++;
                        privateRows += r.laddr() == null ? 1 : 0;
                    }
                    if (i == 10) {
                        long before = m.rowsSent();
                        await("some rows of the stream delivered", m, () -> m.rowsSent() > before);
                        srv.kill();
                    }
                    if (i == 30) {
                        await("the failure noticed", m, m::failing);
                        srv.start();
                    }
                    Thread.sleep(20);
                }
                store.writer().flush(Duration.ofSeconds(30));
                await("the outbox drained", m, () -> outbox(store) == 0);
            } finally {
                m.close();
            }
            long[] t = serverTotals(srv);
            assertThat(t[0]).as("rows on the server").isEqualTo(rows);
            assertThat(t[1]).as("distinct sequence numbers").isEqualTo(rows);
            assertThat(t[2]).isEqualTo(1);
            assertThat(t[3]).as("no gap").isEqualTo(rows);
            assertThat(t[4]).isEqualTo(sent);
            assertThat(t[5]).isEqualTo(recv);
            assertThat(t[6]).as("privacy: rows stored without addresses arrive without").isEqualTo(privateRows);

            // 4. Sent again after a crash between the server's commit and the local ack: dropped by the key.
            try (Reader r = store.reader(); Connection c = srv.connect()) {
                Dialect d = Dialect.of(srv.type());
                List<Outbox.Entry> again = List.of(new Outbox.Entry(5, batch(1).getFirst()), new Outbox.Entry(rows + 1000,
                        batch(1).getFirst()));
                c.setAutoCommit(false);
                try (PreparedStatement ps = c.prepareStatement(d.insert("peekd_flows"))) {
                    for (Outbox.Entry e : again) {
                        d.bind(ps, "test-host", r.dbId(), e.seq(), e.row());
                        ps.addBatch();
                    }
                    ps.executeBatch();
                }
                c.commit();
            }
            assertThat(serverCount(srv)).as("only the new key was added").isEqualTo(rows + 1);
            // Times are UTC on the server too.
            try (Connection c = srv.connect(); Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT time, host FROM peekd_flows WHERE seq = 1")) {
                rs.next();
                String text = srv.type().equals("postgresql")
                        ? rs.getObject(1, java.time.OffsetDateTime.class).toInstant().toString()
                        : rs.getObject(1, java.time.LocalDateTime.class) + "Z";
                assertThat(text).startsWith("2026-07-01T00:00:01");
                assertThat(rs.getString(2)).isEqualTo("test-host");
            }
        }
    }

    @Test
    void postgresql() throws Exception {
        downAtStartKilledMidStreamAndBack(DbServer.postgres());
    }

    @Test
    void mariadb() throws Exception {
        downAtStartKilledMidStreamAndBack(DbServer.mariadb());
    }

    @Test
    void credentialsComeFromARootOnlyFile() throws Exception {
        Path cred = dir.resolve("cred.toml");
        Files.writeString(cred, "user = \"peekd\"\npassword = \"" + DbServer.PASSWORD + "\"\n");
        Files.setPosixFilePermissions(cred, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> Mirror.credentials(cred)).hasMessageContaining("chmod 600");
        Files.setPosixFilePermissions(cred, PosixFilePermissions.fromString("rw-------"));
        assertThat(Mirror.credentials(cred)).containsExactly("peekd", DbServer.PASSWORD);
        Files.writeString(cred, "user = \"peekd\"\npasword = \"x\"\n");
        assertThatThrownBy(() -> Mirror.credentials(cred)).hasMessageContaining("unknown key \"pasword\"");
        Path link = dir.resolve("link.toml");
        Files.createSymbolicLink(link, cred);
        assertThatThrownBy(() -> Mirror.credentials(link)).hasMessageContaining("symlink");

        // With the right file (and wrong keys in the config) rows arrive.
        Files.writeString(cred, "user = \"peekd\"\npassword = \"" + DbServer.PASSWORD + "\"\n");
        try (DbServer srv = DbServer.postgres(); Store store = Store.open(dir.resolve("peekd.db"))) {
            srv.start();
            DbOps.setOutbox(store.writer(), true);
            Mirror m = Mirror.start(cfg(srv, "nobody", "wrong", cred), store, errors::add);
            try {
                assertThat(store.writer().submit(batch(3))).isTrue();
                await("3 rows on the server", m, () -> serverCount(srv) == 3 && outbox(store) == 0);
            } finally {
                m.close();
            }
            assertThat(errors).isEmpty();
        }
    }
}

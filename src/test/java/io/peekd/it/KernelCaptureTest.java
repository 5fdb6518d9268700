package io.peekd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.peekd.testkit.NetNs;
import io.peekd.testkit.Tgen;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * End to end: the real BPF programs, a real daemon, real traffic from tgen
 * (each test its own executable), and exact byte counts read back with
 * {@code peekd query --json}. Peers are on loopback or inside a network
 * namespace this test creates.
 */
class KernelCaptureTest {
    private static DaemonHarness peekd;
    private static NetNs ns;
    private static final AtomicInteger SEQ = new AtomicInteger();

    @BeforeAll
    static void start() throws Exception {
        peekd = DaemonHarness.start();
        ns = NetNs.create();
    }

    @AfterAll
    static void stop() {
        if (ns != null) ns.close();
        if (peekd != null) peekd.close();
    }

    private static Path exe(String what) {
        return Tgen.copyAs("tg-" + what + "-" + SEQ.incrementAndGet());
    }

    /** Waits for the expected totals, lets one more window pass so an over-count would show, and returns the rows. */
    private static List<JsonNode> settled(Path exe, long sent, long recv) throws Exception {
        peekd.awaitTotals(exe, sent, recv);
        Thread.sleep(1500);
        return peekd.rows(exe);
    }

    private static void assertTotals(Path exe, long sent, long recv) throws Exception {
        long[] t = DaemonHarness.totals(settled(exe, sent, recv));
        assertThat(t[0]).as(exe.getFileName() + " sent").isEqualTo(sent);
        assertThat(t[1]).as(exe.getFileName() + " recv").isEqualTo(recv);
    }

    private void tcpPair(String listen, String clientMode, String serverMode, long bytes, String via) throws Exception {
        Path srv = exe("srv"), cli = exe("cli");
        String host = listen.contains(":") ? "[" + listen + "]" : listen;
        try (Tgen.Running server = Tgen.start(srv, serverMode, "--listen", host + ":0", "--bytes", Long.toString(bytes))) {
            int port = server.port();
            String to = host + ":" + port;
            Tgen.Result c = Tgen.run(cli, clientMode, "--to", to, "--bytes", Long.toString(bytes), "--via", via);
            Tgen.Result s = server.await();
            assertTotals(cli, c.sent(), c.recv());
            assertTotals(srv, s.sent(), s.recv());
        }
    }

    /*
     * A socket's usual flow is counted in the socket's own storage and reaches
     * the flow map through the iterator the daemon runs before each drain: the
     * bytes must show while the connection is still open, not only at close.
     */
    @Test
    void bytesOfAConnectionThatStaysOpenShowBeforeItCloses() throws Exception {
        Path cli = exe("hold"), srv = exe("holdsrv");
        long bytes = 300_000;
        try (Tgen.Running server = Tgen.start(srv, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", Long.toString(bytes),
                "--timeout", "60");
             Tgen.Running client = Tgen.start(cli, "tcp-send", "--to", "127.0.0.1:" + server.port(),
                     "--bytes", Long.toString(bytes), "--hold", "40", "--timeout", "60")) {
            long[] t = peekd.awaitLiveTotals(cli, bytes, 0);
            assertThat(client.process().isAlive()).as("the client still holds its connection").isTrue();
            assertThat(t[0]).isEqualTo(bytes);
            assertThat(peekd.awaitLiveTotals(srv, 0, bytes)[1]).isEqualTo(bytes);
            assertThat(client.process().isAlive()).isTrue();
        }
    }

    @Test
    void tcpUploadIpv4() throws Exception {
        tcpPair("127.0.0.1", "tcp-send", "tcp-sink", 3_000_017, "write");
    }

    @Test
    void tcpDownloadIpv6() throws Exception {
        tcpPair("::1", "tcp-recv", "tcp-source", 2_500_003, "write");
    }

    @Test
    void tcpDuplexIpv4() throws Exception {
        tcpPair("127.0.0.1", "tcp-duplex", "tcp-echo", 1_048_583, "write");
    }

    @Test
    void ioUringBothDirections() throws Exception {
        tcpPair("127.0.0.1", "tcp-send", "tcp-sink", 777_777, "uring");
        tcpPair("127.0.0.1", "tcp-recv", "tcp-source", 666_667, "uring");
    }

    @Test
    void sendfileUpload() throws Exception {
        tcpPair("127.0.0.1", "tcp-send", "tcp-sink", 4_194_319, "sendfile");
    }

    @Test
    void spliceBothDirections() throws Exception {
        tcpPair("127.0.0.1", "tcp-send", "tcp-sink", 2_097_169, "splice");
        tcpPair("::1", "tcp-recv", "tcp-source", 16 * 1024 * 1024, "splice");
    }

    @Test
    void tcpToNamespacePeerIpv4AndIpv6() throws Exception {
        for (String peer : List.of(ns.peerV4().getHostAddress(), NetNs.text(ns.peerV6()))) {
            Path srv = exe("nssrv"), cli = exe("nscli");
            try (Tgen.Running server = Tgen.start(ns, srv, "tcp-echo", "--listen", (peer.contains(":") ? "[" + peer + "]" : peer) + ":0")) {
                int port = server.port();
                String to = (peer.contains(":") ? "[" + peer + "]" : peer) + ":" + port;
                Tgen.Result c = Tgen.run(cli, "tcp-duplex", "--to", to, "--bytes", "524309", "--dev", ns.hostIf());
                server.await();
                List<JsonNode> rows = settled(cli, c.sent(), c.recv());
                long[] t = DaemonHarness.totals(rows);
                assertThat(t[0]).isEqualTo(c.sent());
                assertThat(t[1]).isEqualTo(c.recv());
                assertThat(rows).allSatisfy(r -> {
                    assertThat(r.get("raddr").asText()).isEqualTo(peer);
                    assertThat(r.get("rport").asInt()).isEqualTo(port);
                    assertThat(r.get("proto").asText()).isEqualTo("tcp");
                    assertThat(r.get("family").asInt()).isEqualTo(peer.contains(":") ? 6 : 4);
                    assertThat(r.get("country").asText()).as("namespace peers are private addresses").isEqualTo("private");
                });
            }
        }
    }

    @Test
    void zeroByteConnectIsRecorded() throws Exception {
        Path srv = exe("zsrv"), cli = exe("zcli");
        try (Tgen.Running server = Tgen.start(srv, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "0")) {
            int port = server.port();
            Tgen.Result c = Tgen.run(cli, "tcp-connect", "--to", "127.0.0.1:" + port);
            server.await();
            List<JsonNode> rows = peekd.awaitRows(cli, r -> DaemonHarness.totals(r)[2] >= 1);
            Thread.sleep(1500);
            rows = peekd.rows(cli);
            long[] t = DaemonHarness.totals(rows);
            assertThat(t).containsExactly(0, 0, 1);
            assertThat(rows.getFirst().get("rport").asInt()).isEqualTo(port);
            assertThat(c.sent()).isZero();
        }
    }

    @Test
    void udpUnconnectedToSeveralDestinationsKeepsEachAddress() throws Exception {
        Path e1 = exe("echo1"), e2 = exe("echo2"), cli = exe("udpcli"), cli6 = exe("udpcli6");
        try (Tgen.Running a = Tgen.start(e1, "udp-echo", "--listen", "127.0.0.1:0", "--count", "5");
             Tgen.Running b = Tgen.start(e2, "udp-echo", "--listen", "127.0.0.2:0", "--count", "5");
             Tgen.Running v6 = Tgen.start(exe("echo6"), "udp-echo", "--listen", "[::1]:0", "--count", "3")) {
            int pa = a.port(), pb = b.port();
            Tgen.Result c = Tgen.run(cli, "udp", "--to", "127.0.0.1:" + pa, "--to", "127.0.0.2:" + pb, "--count", "5", "--size", "333");
            Tgen.Result c6 = Tgen.run(cli6, "udp", "--to", "[::1]:" + v6.port(), "--count", "3", "--size", "77");
            a.await();
            b.await();
            v6.await();
            assertTotals(cli6, c6.sent(), c6.recv());
            List<JsonNode> rows = settled(cli, c.sent(), c.recv());
            for (Tgen.Peer p : c.peers()) {
                long sent = rows.stream().filter(r -> r.get("raddr").asText().equals(p.addr()) && r.get("rport").asInt() == p.port())
                        .mapToLong(r -> r.get("sent").asLong()).sum();
                long recv = rows.stream().filter(r -> r.get("raddr").asText().equals(p.addr()) && r.get("rport").asInt() == p.port())
                        .mapToLong(r -> r.get("recv").asLong()).sum();
                assertThat(sent).as("sent to " + p).isEqualTo(p.sent());
                assertThat(recv).as("received from " + p).isEqualTo(p.recv());
            }
            assertTotals(e1, 5 * 333, 5 * 333);
        }
    }

    /*
     * Unix-domain and netlink sockets are local IPC, neither a domain nor an IP: a desktop's
     * display server, D-Bus and audio would otherwise top every report. The program moves
     * 200 000 bytes each way over a Unix stream and datagram pair and dumps the kernel's links
     * over netlink before its two UDP datagrams; only the datagrams may be counted.
     */
    @Test
    void unixAndNetlinkSocketsAreNotCounted() throws Exception {
        Path srv = exe("ipcsink"), cli = exe("ipc");
        try (Tgen.Running s = Tgen.start(srv, "udp-sink", "--listen", "127.0.0.1:0", "--count", "2")) {
            Tgen.Result c = Tgen.run(cli, "udp", "--to", "127.0.0.1:" + s.port(), "--count", "2", "--size", "100",
                    "--no-reply", "--unix-first", "200000");
            s.await();
            assertThat(c.sent()).isEqualTo(200);
            List<JsonNode> rows = settled(cli, 200, 0);
            assertThat(DaemonHarness.totals(rows)).containsExactly(200, 0, 1);
            assertThat(rows).allSatisfy(r -> assertThat(r.get("proto").asText()).isEqualTo("udp"));
        }
    }

    @Test
    void udpConnectedAndMmsg() throws Exception {
        Path srv = exe("usrv"), cli = exe("ucli"), mm = exe("mmsg");
        try (Tgen.Running s = Tgen.start(srv, "udp-echo", "--listen", "127.0.0.1:0", "--count", "20")) {
            int port = s.port();
            Tgen.Result c = Tgen.run(cli, "udp", "--connect", "--to", "127.0.0.1:" + port, "--count", "10", "--size", "100");
            Tgen.Result m = Tgen.run(mm, "udp", "--to", "127.0.0.1:" + port, "--count", "10", "--size", "200", "--via", "mmsg");
            s.await();
            assertTotals(cli, c.sent(), c.recv());
            assertTotals(mm, m.sent(), m.recv());
            assertThat(m.sent()).isEqualTo(2000);
        }
    }

    @Test
    void icmpEcho() throws Exception {
        // Inside the test namespace: ping sockets are allowed there, and the host's ping_group_range may forbid them.
        Path cli = exe("ping");
        Tgen.Result c = Tgen.run(ns, cli, "icmp", "--to", "127.0.0.1", "--count", "4", "--size", "56");
        assertTotals(cli, c.sent(), c.recv());
        assertThat(c.sent()).isPositive();
    }

    @Test
    void rawIpAndPacketSockets() throws Exception {
        String token = Tgen.token();
        Path rr = exe("rawrecv"), rs = exe("rawsend");
        try (Tgen.Running r = Tgen.start(rr, "raw-recv", "--listen", "127.0.0.1", "--count", "3", "--token", token)) {
            r.port();
            Tgen.Result s = Tgen.run(rs, "raw-send", "--to", "127.0.0.1", "--count", "3", "--size", "120", "--token", token);
            Tgen.Result got = r.await();
            assertTotals(rs, s.sent(), s.recv());
            assertTotals(rr, got.sent(), got.recv());
        }
        Path pr = exe("pktrecv"), ps = exe("pktsend");
        try (Tgen.Running r = Tgen.start(pr, "packet-recv", "--dev", "lo", "--count", "3", "--token", token)) {
            r.port();
            Tgen.Result s = Tgen.run(ps, "packet-send", "--dev", "lo", "--count", "3", "--size", "90", "--token", token);
            Tgen.Result got = r.await();
            assertTotals(ps, s.sent(), s.recv());
            assertTotals(pr, got.sent(), got.recv());
        }
    }

    @Test
    void shortLivedProcessKeepsItsIdentity() throws Exception {
        Path srv = exe("ssrv"), cli = exe("short");
        try (Tgen.Running server = Tgen.start(srv, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "100")) {
            int port = server.port();
            // A long argv (about 440 bytes, the kernel keeps 512) travels packed behind the
            // exe path and filename in the exec record; the words after it must survive.
            // It is padded to its length from the exe path, whose length depends on where the
            // checkout lives.
            List<String> args = new java.util.ArrayList<>(List.of("tcp-send", "--to", "127.0.0.1:" + port));
            for (int i = 0; (cli + " " + String.join(" ", args)).length() < 410; i++) {
                args.addAll(List.of("--timeout", "3" + i % 10));
            }
            args.addAll(List.of("--timeout", "30", "--bytes", "100"));
            Tgen.Result c = Tgen.run(cli, args.toArray(String[]::new));
            server.await();
            List<JsonNode> rows = settled(cli, 100, 0);
            assertThat(DaemonHarness.totals(rows)[0]).isEqualTo(100);
            String cmdline = cli + " " + String.join(" ", args);
            assertThat(cmdline.length()).isBetween(410, 500);
            assertThat(rows).allSatisfy(r -> {
                assertThat(r.get("cmdline").asText()).isEqualTo(cmdline);
                assertThat(r.get("exe").asText()).isEqualTo(cli.toString());
                assertThat(r.get("pid").asInt()).isEqualTo(c.pid());
                assertThat(r.get("name").asText()).isEqualTo(cli.getFileName().toString().substring(0, Math.min(15, cli.getFileName().toString().length())));
            });
        }
    }

    @Test
    void forkedChildGetsTheBytesAndNamesItsParent() throws Exception {
        Path srv = exe("fsrv"), cli = exe("forker");
        try (Tgen.Running server = Tgen.start(srv, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "54321")) {
            int port = server.port();
            Tgen.Result c = Tgen.run(cli, "tcp-send", "--to", "127.0.0.1:" + port, "--bytes", "54321", "--fork");
            server.await();
            List<JsonNode> rows = settled(cli, 54321, 0);
            assertThat(DaemonHarness.totals(rows)[0]).isEqualTo(54321);
            assertThat(rows).allSatisfy(r -> {
                assertThat(r.get("pid").asInt()).as("the child moved the bytes").isEqualTo(c.pid());
                assertThat(r.get("pexe").asText()).isEqualTo(cli.toString());
            });
        }
    }

    /*
     * The kernel remembers in each socket's storage which executable last used it, keyed by
     * pid, start time and exec count. exec() keeps the pid, the start time and the socket:
     * what the new program moves is its own, sending (on_send) and receiving (on_tcp_rcv).
     */
    @Test
    void execKeepingASocketGivesTheNewProgramItsBytes() throws Exception {
        Path sink = exe("xsink"), up1 = exe("xup1"), up2 = exe("xup2");
        long bytes = 400_009;
        try (Tgen.Running server = Tgen.start(sink, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", Long.toString(bytes))) {
            Tgen.Result c = Tgen.run(up1, "tcp-send", "--to", "127.0.0.1:" + server.port(), "--bytes", Long.toString(bytes),
                    "--then-exec", up2.toString());
            server.await();
            assertThat(c.get("before_exec") + c.sent()).isEqualTo(bytes);
            assertTotals(up1, c.get("before_exec"), 0);
            assertTotals(up2, c.sent(), 0);
        }
        Path source = exe("xsource"), down1 = exe("xdown1"), down2 = exe("xdown2");
        try (Tgen.Running server = Tgen.start(source, "tcp-source", "--listen", "[::1]:0", "--bytes", Long.toString(bytes))) {
            Tgen.Result c = Tgen.run(down1, "tcp-recv", "--to", "[::1]:" + server.port(), "--bytes", Long.toString(bytes),
                    "--then-exec", down2.toString());
            server.await();
            assertThat(c.get("before_exec") + c.recv()).isEqualTo(bytes);
            assertTotals(down1, 0, c.get("before_exec"));
            assertTotals(down2, 0, c.recv());
        }
    }

    /* Unlike forkedChildGetsTheBytesAndNamesItsParent, the parent used the socket before the fork. */
    @Test
    void forkedChildSendingOnItsParentsSocketGetsItsOwnBytes() throws Exception {
        Path sink = exe("fssink"), cli = exe("fshare");
        long bytes = 300_007;
        try (Tgen.Running server = Tgen.start(sink, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", Long.toString(bytes))) {
            Tgen.Result c = Tgen.run(cli, "tcp-send", "--to", "127.0.0.1:" + server.port(), "--bytes", Long.toString(bytes),
                    "--then-fork");
            server.await();
            long parentSent = c.get("parent_sent");
            int parent = (int) c.get("ppid");
            assertThat(parentSent + c.sent()).isEqualTo(bytes);
            List<JsonNode> rows = settled(cli, bytes, 0);
            assertThat(rows.stream().filter(r -> r.get("pid").asInt() == parent).mapToLong(r -> r.get("sent").asLong()).sum())
                    .as("sent by the parent %d", parent).isEqualTo(parentSent);
            assertThat(rows.stream().filter(r -> r.get("pid").asInt() == c.pid()).mapToLong(r -> r.get("sent").asLong()).sum())
                    .as("sent by the child %d", c.pid()).isEqualTo(c.sent());
        }
    }

    @Test
    void processInItsOwnPidAndMountNamespace() throws Exception {
        Path srv = exe("nssink"), cli = exe("contained");
        try (Tgen.Running server = Tgen.start(srv, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "8191")) {
            int port = server.port();
            Tgen.Result c = Tgen.run(Tgen.NEW_PID_NS, cli, "tcp-send", "--to", "127.0.0.1:" + port, "--bytes", "8191");
            server.await();
            List<JsonNode> rows = settled(cli, 8191, 0);
            assertThat(DaemonHarness.totals(rows)[0]).isEqualTo(8191);
            assertThat(rows).allSatisfy(r -> assertThat(r.get("exe").asText()).isEqualTo(cli.toString()));
            assertThat(c.pid()).as("tgen saw itself as pid 1 of its namespace").isEqualTo(1);
        }
    }
}

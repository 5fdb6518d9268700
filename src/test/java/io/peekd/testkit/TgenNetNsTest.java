package io.peekd.testkit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static io.peekd.testkit.TgenLoopbackTest.hostPort;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every tgen mode across a veth: servers inside a namespace of our own, clients
 * on the host bound to the host end. Traffic goes only to the namespace's peer.
 */
class TgenNetNsTest {

    private static NetNs ns;
    private static Path tgen;

    @BeforeAll
    static void setUp() {
        tgen = Tgen.copyAs("tgen-ns");
        ns = NetNs.create();
    }

    @AfterAll
    static void tearDown() {
        if (ns != null) ns.close();
    }

    static String peer(int family) {
        return NetNs.text(family == 4 ? ns.peerV4() : ns.peerV6());
    }

    static String host(int family) {
        return NetNs.text(family == 4 ? ns.hostV4() : ns.hostV6());
    }

    /** Server in the namespace on the peer address, client on the host pinned to the veth. */
    static Tgen.Result[] pair(int family, List<String> server, List<String> client) {
        List<String> s = new ArrayList<>(server);
        s.addAll(List.of("--listen", hostPort(peer(family), 0)));
        try (Tgen.Running srv = Tgen.start(ns, tgen, s.toArray(String[]::new))) {
            List<String> c = new ArrayList<>(client);
            c.addAll(List.of("--to", hostPort(peer(family), srv.port()), "--dev", ns.hostIf(), "--src", host(family)));
            Tgen.Result cr = Tgen.run(tgen, c.toArray(String[]::new));
            return new Tgen.Result[] {srv.await(), cr};
        }
    }

    @ParameterizedTest
    @CsvSource({"4,write", "4,uring", "4,sendfile", "4,splice", "6,write", "6,uring", "6,sendfile", "6,splice"})
    void tcpUpload(int family, String via) {
        var r = pair(family, List.of("tcp-sink"), List.of("tcp-send", "--bytes", "2000003", "--via", via));
        assertThat(r[1].sent()).isEqualTo(2_000_003);
        assertThat(r[0].recv()).isEqualTo(r[1].sent());
        assertThat(r[1].text("laddr")).isEqualTo(host(family));
        assertThat(r[1].text("raddr")).isEqualTo(peer(family));
    }

    @ParameterizedTest
    @CsvSource({"4,write", "4,uring", "4,splice", "6,write", "6,uring", "6,splice"})
    void tcpDownload(int family, String via) {
        var r = pair(family, List.of("tcp-source", "--bytes", "1500007"), List.of("tcp-recv", "--via", via));
        assertThat(r[0].sent()).isEqualTo(1_500_007);
        assertThat(r[1].recv()).isEqualTo(r[0].sent());
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 6})
    void tcpDuplex(int family) {
        var r = pair(family, List.of("tcp-echo"), List.of("tcp-duplex", "--bytes", "3000017"));
        assertThat(r[1].sent()).isEqualTo(3_000_017);
        assertThat(r[0].recv()).isEqualTo(r[1].sent());
        assertThat(r[1].recv()).isEqualTo(r[0].sent()).isEqualTo(r[1].sent());
    }

    @ParameterizedTest
    @ValueSource(ints = {4, 6})
    void tcpConnectMovesNoByte(int family) {
        var r = pair(family, List.of("tcp-sink"), List.of("tcp-connect"));
        assertThat(r[0].conns()).isEqualTo(r[1].conns()).isEqualTo(1);
        assertThat(r[0].recv() + r[1].sent()).isZero();
    }

    @ParameterizedTest
    @CsvSource({"4,write", "4,mmsg", "6,write", "6,mmsg"})
    void udpConnectedEcho(int family, String via) {
        var r = pair(family, List.of("udp-echo", "--count", "25"),
                List.of("udp", "--connect", "--count", "25", "--size", "1200", "--via", via));
        assertThat(r[1].sent()).isEqualTo(25 * 1200);
        assertThat(r[0].recv()).isEqualTo(r[1].sent());
        assertThat(r[1].recv()).isEqualTo(r[0].sent()).isEqualTo(r[1].sent());
    }

    @ParameterizedTest
    @CsvSource({"4,write", "4,mmsg", "6,write", "6,mmsg"})
    void udpOneSocketToSeveralDestinations(int family, String via) {
        List<Tgen.Running> servers = new ArrayList<>();
        try {
            List<String> client = new ArrayList<>(List.of("udp", "--count", "9", "--size", "77", "--via", via,
                    "--dev", ns.hostIf()));
            for (int i = 0; i < 3; i++) {
                Tgen.Running s = Tgen.start(ns, tgen, "udp-echo", "--listen", hostPort(peer(family), 0), "--count", "9");
                servers.add(s);
                client.addAll(List.of("--to", hostPort(peer(family), s.port())));
            }
            Tgen.Result c = Tgen.run(tgen, client.toArray(String[]::new));
            assertThat(c.sent()).isEqualTo(3 * 9 * 77);
            for (Tgen.Running s : servers) {
                Tgen.Result sr = s.await();
                Tgen.Peer p = c.peer(peer(family), s.port());
                assertThat(sr.recv()).isEqualTo(p.sent()).isEqualTo(9 * 77);
                assertThat(sr.sent()).isEqualTo(p.recv());
                assertThat(sr.peers()).singleElement().satisfies(q -> assertThat(q.port()).isEqualTo(c.get("lport")));
            }
        } finally {
            servers.forEach(Tgen.Running::close);
        }
    }

    /** Ping sockets are allowed only inside the namespace; the namespace's own kernel answers. */
    @ParameterizedTest
    @ValueSource(ints = {4, 6})
    void icmpEchoInsideTheNamespace(int family) {
        Tgen.Result r = Tgen.run(ns, tgen, "icmp", "--to", peer(family), "--count", "4", "--size", "100");
        assertThat(r.sent()).isEqualTo(4 * 108);
        assertThat(r.recv()).isEqualTo(r.sent());
    }

    @ParameterizedTest
    @CsvSource({"4,20", "6,0"})
    void rawIpAcrossTheVeth(int family, int ipHeader) {
        String token = Tgen.token();
        try (Tgen.Running rcv = Tgen.start(ns, tgen, "raw-recv", "--listen", peer(family), "--count", "5",
                "--proto", "253", "--dev", ns.peerIf(), "--token", token)) {
            rcv.port();
            Tgen.Result snd = Tgen.run(tgen, "raw-send", "--to", peer(family), "--src", host(family),
                    "--dev", ns.hostIf(), "--count", "5", "--size", "200", "--token", token);
            Tgen.Result r = rcv.await();
            assertThat(snd.sent()).isEqualTo(5 * 200);
            assertThat(r.get("payload")).isEqualTo(snd.sent());
            assertThat(r.recv()).isEqualTo(snd.sent() + 5L * ipHeader);
        }
    }

    @Test
    void packetAcrossTheVeth() {
        String token = Tgen.token();
        try (Tgen.Running rcv = Tgen.start(ns, tgen, "packet-recv", "--dev", ns.peerIf(), "--count", "7", "--token", token)) {
            rcv.port();
            Tgen.Result snd = Tgen.run(tgen, "packet-send", "--dev", ns.hostIf(), "--count", "7", "--size", "300",
                    "--token", token);
            Tgen.Result r = rcv.await();
            assertThat(snd.sent()).isEqualTo(7 * 314);
            assertThat(r.recv()).isEqualTo(snd.sent());
        }
    }

    @Test
    void serverForkedInsideTheNamespace() {
        try (Tgen.Running srv = Tgen.start(ns, tgen, "tcp-sink", "--fork", "--listen", hostPort(peer(4), 0))) {
            Tgen.Result c = Tgen.run(tgen, "tcp-send", "--to", hostPort(peer(4), srv.port()), "--bytes", "65537");
            Tgen.Result s = srv.await();
            assertThat(s.get("ppid")).isEqualTo(srv.process().pid());
            assertThat(s.recv()).isEqualTo(c.sent()).isEqualTo(65537);
        }
    }

    @Test
    void bindingToAnotherDeviceCannotReachThePeer() {
        try (Tgen.Running srv = Tgen.start(ns, tgen, "tcp-sink", "--listen", hostPort(peer(4), 0), "--timeout", "3")) {
            Exec e = Tgen.runFailing(tgen, "tcp-connect", "--to", hostPort(peer(4), srv.port()), "--dev", "lo",
                    "--timeout", "1");
            assertThat(e.stderr()).contains("connect");
            assertThat(e.stdout()).isEmpty();
        }
    }
}

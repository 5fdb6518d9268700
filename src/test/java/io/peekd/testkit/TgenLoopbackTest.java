package io.peekd.testkit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Every tgen mode over loopback: client and server must agree byte for byte. */
class TgenLoopbackTest {

    private static Path tgen;
    private static NetNs icmpNs;

    @BeforeAll
    static void build() {
        tgen = Tgen.copyAs("tgen-loop");
    }

    @AfterAll
    static void cleanUp() {
        if (icmpNs != null) icmpNs.close();
    }

    /** "[::1]:port" or "127.0.0.1:port". */
    static String hostPort(String addr, int port) {
        return (addr.contains(":") ? "[" + addr + "]" : addr) + ":" + port;
    }

    /** Starts a server on addr, runs one client against it, returns {server, client}. */
    static Tgen.Result[] pair(String addr, List<String> server, List<String> client) {
        List<String> s = new ArrayList<>(server);
        s.addAll(List.of("--listen", hostPort(addr, 0)));
        try (Tgen.Running srv = Tgen.start(tgen, s.toArray(String[]::new))) {
            List<String> c = new ArrayList<>(client);
            c.addAll(List.of("--to", hostPort(addr, srv.port())));
            Tgen.Result cr = Tgen.run(tgen, c.toArray(String[]::new));
            return new Tgen.Result[] {srv.await(), cr};
        }
    }

    @ParameterizedTest
    @CsvSource({"127.0.0.1,write", "127.0.0.1,uring", "127.0.0.1,sendfile", "127.0.0.1,splice",
                "::1,write", "::1,uring", "::1,sendfile", "::1,splice"})
    void tcpUpload(String addr, String via) {
        var r = pair(addr, List.of("tcp-sink"), List.of("tcp-send", "--bytes", "3000001", "--via", via));
        assertThat(r[1].sent()).isEqualTo(3_000_001);
        assertThat(r[0].recv()).isEqualTo(r[1].sent());
        assertThat(r[0].sent()).isZero();
        assertThat(r[1].recv()).isZero();
        assertThat(r[0].conns()).isEqualTo(1);
        assertThat(r[1].conns()).isEqualTo(1);
        assertThat(r[1].get("rport")).isEqualTo(r[0].get("lport"));
        assertThat(r[1].text("via")).isEqualTo(via);
    }

    @ParameterizedTest
    @CsvSource({"127.0.0.1,write", "127.0.0.1,uring", "127.0.0.1,splice", "::1,write", "::1,uring", "::1,splice"})
    void tcpDownload(String addr, String via) {
        var r = pair(addr, List.of("tcp-source", "--bytes", "2500003"),
                List.of("tcp-recv", "--via", via, "--bytes", "2500003"));
        assertThat(r[0].sent()).isEqualTo(2_500_003);
        assertThat(r[1].recv()).isEqualTo(r[0].sent());
        assertThat(r[1].sent()).isZero();
        if (via.equals("splice")) assertThat(r[1].get("file_bytes")).isEqualTo(r[1].recv());
    }

    @Test
    void spliceDownloadWritesTheBytesToTheGivenFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("download.bin");
        var r = pair("127.0.0.1", List.of("tcp-source", "--bytes", "777777"),
                List.of("tcp-recv", "--via", "splice", "--file", file.toString()));
        assertThat(r[1].recv()).isEqualTo(777_777);
        assertThat(Files.size(file)).isEqualTo(r[1].recv());
    }

    @Test
    void sendfileUploadSendsTheWholeGivenFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("upload.bin");
        Files.write(file, new byte[123_457]);
        for (String via : List.of("sendfile", "splice")) {
            var r = pair("::1", List.of("tcp-sink"), List.of("tcp-send", "--via", via, "--file", file.toString()));
            assertThat(r[1].sent()).as(via).isEqualTo(123_457);
            assertThat(r[0].recv()).as(via).isEqualTo(r[1].sent());
            assertThat(Files.size(file)).as("the source file is left alone").isEqualTo(123_457);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "::1"})
    void tcpDuplex(String addr) {
        var r = pair(addr, List.of("tcp-echo"), List.of("tcp-duplex", "--bytes", "4000037"));
        assertThat(r[1].sent()).isEqualTo(4_000_037);
        assertThat(r[1].recv()).isEqualTo(r[1].sent());
        assertThat(r[0].recv()).isEqualTo(r[1].sent());
        assertThat(r[0].sent()).isEqualTo(r[1].recv());
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "::1"})
    void tcpConnectMovesNoByte(String addr) {
        var r = pair(addr, List.of("tcp-sink"), List.of("tcp-connect"));
        assertThat(r[1].conns()).isEqualTo(1);
        assertThat(r[0].conns()).isEqualTo(1);
        assertThat(List.of(r[0].sent(), r[0].recv(), r[1].sent(), r[1].recv())).containsOnly(0L);
    }

    @Test
    void serverHandlesSeveralConnections() {
        try (Tgen.Running srv = Tgen.start(tgen, "tcp-sink", "--listen", "127.0.0.1:0", "--conns", "3")) {
            long sent = 0;
            for (int i = 1; i <= 3; i++) {
                sent += Tgen.run(tgen, "tcp-send", "--to", "127.0.0.1:" + srv.port(), "--bytes", String.valueOf(i * 1000)).sent();
            }
            Tgen.Result s = srv.await();
            assertThat(sent).isEqualTo(6000);
            assertThat(s.recv()).isEqualTo(sent);
            assertThat(s.conns()).isEqualTo(3);
        }
    }

    @ParameterizedTest
    @CsvSource({"127.0.0.1,write", "127.0.0.1,mmsg", "::1,write", "::1,mmsg"})
    void udpConnectedEcho(String addr, String via) {
        var r = pair(addr, List.of("udp-echo", "--count", "40"),
                List.of("udp", "--connect", "--count", "40", "--size", "333", "--via", via));
        assertThat(r[1].sent()).isEqualTo(40 * 333);
        assertThat(r[1].recv()).isEqualTo(r[1].sent());
        assertThat(r[0].recv()).isEqualTo(r[1].sent());
        assertThat(r[0].sent()).isEqualTo(r[1].recv());
        assertThat(r[1].conns()).isEqualTo(1);
        assertThat(r[1].get("datagrams_sent")).isEqualTo(40);
        assertThat(r[0].get("datagrams_recv")).isEqualTo(40);
    }

    @ParameterizedTest
    @CsvSource({"127.0.0.1,127.0.0.2,127.0.0.3,write", "127.0.0.1,127.0.0.2,127.0.0.3,mmsg",
                "::1,::1,::1,write", "::1,::1,::1,mmsg"})
    void udpOneSocketToSeveralDestinations(String a1, String a2, String a3, String via) {
        List<String> addrs = List.of(a1, a2, a3);
        List<Tgen.Running> servers = new ArrayList<>();
        try {
            List<String> client = new ArrayList<>(List.of("udp", "--count", "7", "--size", "101", "--via", via));
            for (String a : addrs) {
                Tgen.Running s = Tgen.start(tgen, "udp-echo", "--listen", hostPort(a, 0), "--count", "7");
                servers.add(s);
                client.addAll(List.of("--to", hostPort(a, s.port())));
            }
            Tgen.Result c = Tgen.run(tgen, client.toArray(String[]::new));
            assertThat(c.sent()).isEqualTo(3 * 7 * 101);
            assertThat(c.recv()).isEqualTo(c.sent());
            assertThat(c.conns()).isZero();
            assertThat(c.get("lport")).isPositive();
            for (int i = 0; i < 3; i++) {
                Tgen.Result s = servers.get(i).await();
                Tgen.Peer toServer = c.peer(addrs.get(i), servers.get(i).port());
                assertThat(toServer.sent()).isEqualTo(7 * 101);
                assertThat(s.recv()).isEqualTo(toServer.sent());
                assertThat(s.sent()).isEqualTo(toServer.recv());
                assertThat(s.peers()).hasSize(1);
                assertThat(s.peers().getFirst().port()).isEqualTo(c.get("lport"));
            }
        } finally {
            servers.forEach(Tgen.Running::close);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "::1"})
    void shortLivedSenderOfOneDatagram(String addr) {
        var r = pair(addr, List.of("udp-sink", "--count", "1"), List.of("udp", "--no-reply", "--size", "12"));
        assertThat(r[1].sent()).isEqualTo(12);
        assertThat(r[0].recv()).isEqualTo(12);
        assertThat(r[1].recv()).isZero();
    }

    /** The host forbids ping sockets (ping_group_range "1 0"), so ICMP runs on a namespace's own loopback. */
    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "::1"})
    void icmpEchoOnLoopback(String addr) {
        if (icmpNs == null) icmpNs = NetNs.create();
        Tgen.Result r = Tgen.run(icmpNs, tgen, "icmp", "--to", addr, "--count", "5", "--size", "56");
        assertThat(r.sent()).isEqualTo(5 * (8 + 56)); // ICMP header + payload, as the ping socket counts
        assertThat(r.recv()).isEqualTo(r.sent());
        assertThat(r.get("datagrams_recv")).isEqualTo(5);
        assertThat(r.peers()).singleElement().satisfies(p -> assertThat(p.recv()).isEqualTo(r.recv()));
    }

    @ParameterizedTest
    @CsvSource({"127.0.0.1,127.44.0.9,20", "::1,::1,0"})
    void rawIpSendAndReceive(String src, String dst, int ipHeader) {
        String token = Tgen.token(), other = Tgen.token();
        try (Tgen.Running rcv = Tgen.start(tgen, "raw-recv", "--listen", dst, "--count", "4", "--token", token)) {
            assertThat(rcv.port()).isZero();
            // Same protocol, other token: the kernel filter must keep these out of the receiver.
            Tgen.run(tgen, "raw-send", "--to", dst, "--src", src, "--count", "3", "--size", "90", "--token", other);
            Tgen.Result snd = Tgen.run(tgen, "raw-send", "--to", dst, "--src", src, "--count", "4", "--size", "90",
                    "--token", token);
            Tgen.Result r = rcv.await();
            assertThat(snd.sent()).isEqualTo(4 * 90);
            assertThat(r.get("payload")).isEqualTo(snd.sent());
            assertThat(r.recv()).isEqualTo(snd.sent() + 4L * ipHeader); // IPv4 raw sockets read the IP header too
            assertThat(r.get("datagrams_recv")).isEqualTo(4);
        }
    }

    @Test
    void packetSendAndReceiveOnLo() {
        String token = Tgen.token(), other = Tgen.token();
        try (Tgen.Running rcv = Tgen.start(tgen, "packet-recv", "--dev", "lo", "--count", "6", "--token", token)) {
            rcv.port();
            Tgen.run(tgen, "packet-send", "--dev", "lo", "--count", "2", "--size", "60", "--token", other);
            Tgen.Result snd = Tgen.run(tgen, "packet-send", "--dev", "lo", "--count", "6", "--size", "60", "--token", token);
            Tgen.Result r = rcv.await();
            assertThat(snd.sent()).isEqualTo(6 * (14 + 60)); // whole frames, Ethernet header included
            assertThat(r.recv()).isEqualTo(snd.sent());
            assertThat(r.get("payload")).isEqualTo(6 * 60);
        }
    }

    @Test
    void forkedChildDoesTheIoAndReportsItsOwnPid() {
        try (Tgen.Running srv = Tgen.start(tgen, "tcp-sink", "--listen", "127.0.0.1:0");
             Tgen.Running cli = Tgen.start(tgen, "tcp-send", "--fork", "--to", "127.0.0.1:" + srv.port(), "--bytes", "4096")) {
            Tgen.Result c = cli.await();
            assertThat(c.get("ppid")).isEqualTo(cli.process().pid());
            assertThat((long) c.pid()).isNotEqualTo(cli.process().pid());
            assertThat(c.sent()).isEqualTo(4096);
            assertThat(srv.await().recv()).isEqualTo(4096);
        }
    }

    @Test
    void runsInItsOwnPidAndMountNamespace() throws Exception {
        long ownPidNs = pidNs(Path.of("/proc/self/ns/pid"));
        try (Tgen.Running srv = Tgen.start(tgen, "tcp-sink", "--listen", "127.0.0.1:0")) {
            Tgen.Result c = Tgen.run(Tgen.NEW_PID_NS, tgen, "tcp-send", "--to", "127.0.0.1:" + srv.port(), "--bytes", "5000");
            assertThat(c.pid()).isEqualTo(1);
            assertThat(c.get("pidns")).isNotEqualTo(ownPidNs);
            assertThat(srv.await().recv()).isEqualTo(c.sent()).isEqualTo(5000);
        }
    }

    static long pidNs(Path link) throws Exception {
        String target = Files.readSymbolicLink(link).toString(); // pid:[4026531836]
        return Long.parseLong(target.substring(target.indexOf('[') + 1, target.indexOf(']')));
    }

    @Test
    void bindsToSourceAddressAndDevice() {
        try (Tgen.Running srv = Tgen.start(tgen, "tcp-sink", "--listen", "127.0.0.1:0")) {
            Tgen.Result c = Tgen.run(tgen, "tcp-send", "--to", "127.0.0.1:" + srv.port(), "--src", "127.3.4.5",
                    "--dev", "lo", "--bytes", "10");
            assertThat(c.text("laddr")).isEqualTo("127.3.4.5");
            assertThat(srv.await().recv()).isEqualTo(10);
        }
    }

    @Test
    void copiesHaveTheirOwnPathAndReportIt() {
        Path a = Tgen.copyAs("same-name"), b = Tgen.copyAs("same-name");
        assertThat(a).isNotEqualTo(b);
        assertThat(a.getFileName()).isEqualTo(b.getFileName());
        assertThat(Files.isExecutable(a)).isTrue();
        var r = pair("127.0.0.1", List.of("tcp-sink"), List.of("tcp-connect"));
        assertThat(r[1].text("exe")).isEqualTo(tgen.toString());
        assertThatThrownBy(() -> Tgen.copyAs("../evil")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void badInputFailsWithAMessageAndNoJson() {
        for (String[] args : List.of(new String[] {"no-such-mode"}, new String[] {"tcp-send", "--bytes", "lots"},
                new String[] {"tcp-send", "--to", "not-an-address:1"}, new String[] {"udp", "--to", "127.0.0.1:9", "--via", "splice"},
                new String[] {"tcp-sink"}, new String[] {"tcp-send", "--to"},
                new String[] {"tcp-send", "--to", "127.0.0.1:1", "--dev", "no-such-dev0"})) {
            Exec e = Tgen.runFailing(tgen, args);
            assertThat(e.exitCode()).as(String.join(" ", args)).isEqualTo(1);
            assertThat(e.stdout()).as(String.join(" ", args)).isEmpty();
            assertThat(e.stderr()).as(String.join(" ", args)).startsWith("tgen ");
        }
    }

    @Test
    void serverWithAQuotaFailsOnTimeoutButOneWithoutEndsCleanly() {
        Exec e = Tgen.runFailing(tgen, "tcp-sink", "--listen", "127.0.0.1:0", "--timeout", "1");
        assertThat(e.stderr()).contains("timed out after 1s");
        Tgen.Result r = Tgen.run(tgen, "udp-sink", "--listen", "127.0.0.1:0", "--count", "0", "--timeout", "1");
        assertThat(r.recv()).isZero();
    }

    @Test
    void compilesWithoutWarnings(@TempDir Path dir) {
        Exec cc = Exec.run(java.time.Duration.ofSeconds(120), Tgen.gcc(Tgen.source(), dir.resolve("tgen"), "-Werror"));
        assertThat(cc.stderr()).isEmpty();
        assertThat(cc.exitCode()).isZero();
    }
}

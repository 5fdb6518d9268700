package io.peekd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.peekd.testkit.Exec;
import io.peekd.testkit.NetNs;
import io.peekd.testkit.Tgen;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Which domain a flow gets, from which evidence, with what confidence. A real
 * dnsmasq serves the test names inside a network namespace this test creates;
 * real clients (curl, python, openssl, getent) resolve and connect there.
 */
class DomainAttributionTest {
    private static DaemonHarness peekd;
    private static NetNs ns;
    private static Path etcNetns;
    private static Path work;
    private static String peer;

    @BeforeAll
    static void start() throws Exception {
        peekd = DaemonHarness.start();
        ns = NetNs.create();
        peer = NetNs.text(ns.peerV4());
        work = Files.createTempDirectory(peekd.dir, "dns-");
        // `ip netns exec` bind-mounts /etc/netns/NAME/* over /etc: clients in the namespace use our resolver.
        etcNetns = Path.of("/etc/netns", ns.name());
        Files.createDirectories(etcNetns);
        Files.writeString(etcNetns.resolve("resolv.conf"), "nameserver 127.0.0.1\noptions timeout:2 attempts:1\n");
        Files.writeString(etcNetns.resolve("hosts"), "127.0.0.1 localhost\n");
        ns.start("/usr/sbin/dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--user=root",
                "--listen-address=127.0.0.1," + peer, "--bind-interfaces", "--port=53", "--pid-file=" + work.resolve("dnsmasq.pid"),
                "--host-record=target.peekd.test," + peer, "--cname=www.peekd.test,target.peekd.test",
                "--host-record=a.peekd.test,127.0.0.2", "--host-record=b.peekd.test,127.0.0.2",
                "--host-record=tls.peekd.test," + peer, "--host-record=tcp.peekd.test," + NetNs.text(ns.peerV6()));
        // Wait (bounded) until the resolver answers.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!ns.exec("getent", "hosts", "target.peekd.test").ok() && System.nanoTime() < deadline) Thread.sleep(100);
        assertThat(ns.exec("getent", "hosts", "target.peekd.test").stdout()).contains(peer);
    }

    @AfterAll
    static void stop() throws Exception {
        if (ns != null) ns.close();
        if (etcNetns != null) {
            for (String f : List.of("resolv.conf", "hosts")) Files.deleteIfExists(etcNetns.resolve(f));
            Files.deleteIfExists(etcNetns);
        }
        if (peekd != null) peekd.close();
    }

    /** A uniquely named copy of a system program, so rows can be picked by exe. */
    private static Path copy(String program, String name) throws Exception {
        Path dir = Files.createTempDirectory(work, "bin-");
        Path p = dir.resolve(name);
        Files.copy(Path.of(program), p, StandardCopyOption.COPY_ATTRIBUTES);
        return p;
    }

    /** The flow of exe to rport that carried data (a refused retry has none and no evidence). */
    private static JsonNode flowTo(Path exe, int rport) throws Exception {
        List<JsonNode> rows = peekd.awaitRows(exe, rs -> rs.stream().anyMatch(r -> r.get("rport").asInt() == rport
                && r.get("sent").asLong() > 0));
        return rows.stream().filter(r -> r.get("rport").asInt() == rport && r.get("sent").asLong() > 0).findFirst()
                .orElseThrow(() -> new AssertionError("no flow of " + exe + " to port " + rport + " in " + rows));
    }

    @Test
    void httpHostHeaderNamesTheFlowWithHighConfidence() throws Exception {
        Path curl = copy("/usr/bin/curl", "curl-http");
        try (Tgen.Running web = Tgen.start(ns, Tgen.copyAs("web-sink"), "tcp-sink", "--listen", peer + ":0")) {
            int port = web.port();
            ns.exec(Duration.ofSeconds(20), curl.toString(), "-s", "-m", "3", "-o", "/dev/null",
                    "http://www.peekd.test:" + port + "/");
            JsonNode r = flowTo(curl, port);
            assertThat(r.get("domain").asText()).isEqualTo("www.peekd.test");
            assertThat(r.get("domain_source").asText()).isEqualTo("http");
            assertThat(r.get("domain_confidence").asText()).isEqualTo("high");
            assertThat(r.get("domain_status").asText()).isEqualTo("ok");
        }
    }

    @Test
    void aProcessThatResolvedTheNameItselfGetsItFromDns() throws Exception {
        Path py = copy("/usr/bin/python3", "py-resolver");
        try (Tgen.Running sink = Tgen.start(ns, Tgen.copyAs("py-sink"), "tcp-sink", "--listen", peer + ":0")) {
            int port = sink.port();
            Exec e = ns.exec(Duration.ofSeconds(20), py.toString(), "-c",
                    "import socket\n"
                    + "ai = socket.getaddrinfo('www.peekd.test', " + port + ", socket.AF_INET, socket.SOCK_STREAM)\n"
                    + "s = socket.create_connection(ai[0][4][:2]); s.sendall(b'not a protocol'); s.close()\n");
            assertThat(e.ok()).as(e.stderr()).isTrue();
            JsonNode r = flowTo(py, port);
            // The name the program asked for, not the CNAME target it led to.
            assertThat(r.get("domain").asText()).isEqualTo("www.peekd.test");
            assertThat(r.get("domain_source").asText()).isIn("dns", "getaddrinfo");
            assertThat(r.get("domain_confidence").asText()).isEqualTo("high");
        }
    }

    @Test
    void tlsSniNamesTheFlow() throws Exception {
        Path key = work.resolve("key.pem"), cert = work.resolve("cert.pem");
        assertThat(Exec.run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=tls.peekd.test",
                "-days", "1", "-keyout", key.toString(), "-out", cert.toString()).ok()).isTrue();
        int port = 20000 + (int) (ProcessHandle.current().pid() % 20000);
        Process server = ns.start("openssl", "s_server", "-accept", peer + ":" + port, "-key", key.toString(),
                "-cert", cert.toString(), "-naccept", "1", "-quiet");
        try {
            Path client = copy("/usr/bin/openssl", "tls-client");
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            Exec e;
            do {
                e = ns.exec(Duration.ofSeconds(10), "sh", "-c", "echo | " + client + " s_client -connect " + peer + ":" + port
                        + " -servername tls.peekd.test");
            } while (!e.stdout().contains("BEGIN CERTIFICATE") && System.nanoTime() < deadline && sleep());
            JsonNode r = flowTo(client, port);
            assertThat(r.get("domain").asText()).isEqualTo("tls.peekd.test");
            assertThat(r.get("domain_source").asText()).isEqualTo("sni");
            assertThat(r.get("domain_confidence").asText()).isEqualTo("high");
        } finally {
            server.destroyForcibly();
        }
        // The same server reached without SNI: no name from the handshake.
        Process again = ns.start("openssl", "s_server", "-accept", peer + ":" + (port + 1), "-key", key.toString(),
                "-cert", cert.toString(), "-naccept", "1", "-quiet");
        try {
            Path bare = copy("/usr/bin/openssl", "tls-nosni");
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            Exec e;
            do {
                e = ns.exec(Duration.ofSeconds(10), "sh", "-c", "echo | " + bare + " s_client -noservername -connect "
                        + peer + ":" + (port + 1));
            } while (!e.stdout().contains("BEGIN CERTIFICATE") && System.nanoTime() < deadline && sleep());
            JsonNode r = flowTo(bare, port + 1);
            // Other processes' answers only (low, or medium from siblings in the test's own cgroup).
            assertThat(r.get("domain_source").asText()).isNotEqualTo("sni");
            assertThat(r.get("domain_confidence").asText()).isIn("low", "medium");
        } finally {
            again.destroyForcibly();
        }
    }

    /**
     * This JVM resolves the name with its own DNS client (dnsjava, no libc), over
     * UDP and over TCP, from the resolver on the namespace peer, then connects.
     */
    /**
     * This JVM resolves names with its own DNS client (dnsjava, no libc) from the
     * resolver on the namespace peer: an A record over UDP, an AAAA record over
     * TCP (each name has its own address, so neither can borrow the other's answer).
     */
    @Test
    void aClientDoingItsOwnDnsOverUdpAndTcpGetsTheName() throws Exception {
        ownDns(false, "www.peekd.test", org.xbill.DNS.Type.A, peer);
        ownDns(true, "tcp.peekd.test", org.xbill.DNS.Type.AAAA, NetNs.text(ns.peerV6()));
    }

    private void ownDns(boolean tcp, String name, int type, String expected) throws Exception {
        org.xbill.DNS.SimpleResolver r = new org.xbill.DNS.SimpleResolver(ns.peerV4());
        r.setTCP(tcp);
        r.setTimeout(Duration.ofSeconds(3));
        org.xbill.DNS.Message answer = r.send(org.xbill.DNS.Message.newQuery(org.xbill.DNS.Record.newRecord(
                org.xbill.DNS.Name.fromString(name + "."), type, org.xbill.DNS.DClass.IN)));
        java.net.InetAddress addr = answer.getSection(org.xbill.DNS.Section.ANSWER).stream()
                .map(rec -> rec instanceof org.xbill.DNS.ARecord a ? a.getAddress()
                        : rec instanceof org.xbill.DNS.AAAARecord a6 ? a6.getAddress() : null)
                .filter(java.util.Objects::nonNull).findFirst().orElseThrow();
        assertThat(NetNs.text(addr)).isEqualTo(expected);
        String listen = addr instanceof java.net.Inet6Address ? "[" + expected + "]:0" : expected + ":0";
        try (Tgen.Running sink = Tgen.start(ns, Tgen.copyAs("own-dns-sink"), "tcp-sink", "--listen", listen)) {
            int port = sink.port();
            try (java.net.Socket s = new java.net.Socket()) {
                s.connect(new java.net.InetSocketAddress(addr, port), 3000);
                s.getOutputStream().write("no protocol here".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            }
            sink.await();
            Path java = Path.of(System.getProperty("java.home"), "bin", "java").toRealPath();
            List<JsonNode> rows = peekd.awaitRows(java, rs -> rs.stream().anyMatch(x -> x.get("rport").asInt() == port));
            JsonNode row = rows.stream().filter(x -> x.get("rport").asInt() == port).findFirst()
                    .orElseThrow(() -> new AssertionError("no row to port " + port));
            assertThat(row.get("domain").asText()).as(tcp ? "DNS over TCP" : "DNS over UDP").isEqualTo(name);
            assertThat(row.get("domain_source").asText()).isEqualTo("dns");
            assertThat(row.get("domain_confidence").asText()).isEqualTo("high");
        }
    }

    /** A QUIC Initial (sealed with the real v1 initial keys) from a connected UDP socket names its flow. */
    @Test
    void quicInitialSniNamesTheFlow() throws Exception {
        byte[] initial = io.peekd.domain.QuicPackets.initial("quic.peekd.test");
        int lport;
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, ns.hostV4())) {
            s.connect(new java.net.InetSocketAddress(ns.peerV4(), 443));
            lport = s.getLocalPort();
            s.send(new java.net.DatagramPacket(initial, initial.length));
        }
        Path java = Path.of(System.getProperty("java.home"), "bin", "java").toRealPath();
        List<JsonNode> rows = peekd.awaitRows(java, rs -> rs.stream().anyMatch(x -> x.get("lport").asInt() == lport));
        JsonNode row = rows.stream().filter(x -> x.get("lport").asInt() == lport && x.get("rport").asInt() == 443)
                .findFirst().orElseThrow(() -> new AssertionError("no QUIC row from port " + lport));
        assertThat(row.get("proto").asText()).isEqualTo("udp");
        assertThat(row.get("sent").asLong()).isEqualTo(initial.length);
        assertThat(row.get("domain").asText()).isEqualTo("quic.peekd.test");
        assertThat(row.get("domain_source").asText()).isEqualTo("quic");
        assertThat(row.get("domain_confidence").asText()).isEqualTo("high");
    }

    private static boolean sleep() throws InterruptedException {
        Thread.sleep(200);
        return true;
    }

    @Test
    void proxyConnectTargetNamesTheFlow() throws Exception {
        Path curl = copy("/usr/bin/curl", "curl-proxy");
        try (Tgen.Running proxy = Tgen.start(ns, Tgen.copyAs("proxy-sink"), "tcp-sink", "--listen", peer + ":0")) {
            int port = proxy.port();
            ns.exec(Duration.ofSeconds(20), curl.toString(), "-s", "-m", "2", "-o", "/dev/null", "-p", "-x",
                    "http://" + peer + ":" + port, "https://secure.peekd.test/");
            JsonNode r = flowTo(curl, port);
            assertThat(r.get("domain").asText()).isEqualTo("secure.peekd.test");
            assertThat(r.get("domain_source").asText()).isEqualTo("connect");
            assertThat(r.get("domain_confidence").asText()).isEqualTo("high");
        }
    }

    /** A fresh cgroup (like a container or a service of its own) under the cgroup2 root. */
    private static Path cgroup(String name) throws Exception {
        Path root = io.peekd.capture.KernelProbe.cgroup2Mount().orElseThrow();
        Path cg = root.resolve("peekd-test-" + name + "-" + ProcessHandle.current().pid());
        Files.createDirectories(cg);
        return cg;
    }

    /**
     * A command prefix that moves the process into cgroup cg and then enters the
     * namespace (in that order: `ip netns exec` remounts /sys, hiding the cgroup tree).
     */
    private static List<String> in(Path cg) {
        List<String> l = new java.util.ArrayList<>(List.of("sh", "-c", "echo $$ > " + cg.resolve("cgroup.procs") + " && exec \"$@\"", "sh"));
        l.addAll(ns.prefix());
        return l;
    }

    private static Exec resolve(Path cg, String name) {
        List<String> argv = new java.util.ArrayList<>(in(cg));
        argv.addAll(List.of("getent", "ahosts", name));
        return Exec.run(Duration.ofSeconds(20), argv);
    }

    @Test
    void answersFromOtherProcessesAreLowOrMediumWithinOneCgroupAndSharedAddressesAreAmbiguous() throws Exception {
        Path resolvers = cgroup("resolvers"), loner = cgroup("loner");
        try (Tgen.Running sink = Tgen.start(ns, Tgen.copyAs("cdn-sink"), "tcp-sink", "--listen", "127.0.0.2:0", "--conns", "3")) {
            int port = sink.port();
            assertThat(resolve(resolvers, "a.peekd.test").ok()).isTrue();

            // A sibling in the resolver's cgroup: medium.
            Path sibling = Tgen.copyAs("cdn-sibling");
            Tgen.Result rs = Tgen.run(in(resolvers), sibling, "tcp-send", "--to", "127.0.0.2:" + port, "--bytes", "10");
            assertThat(rs.sent()).isEqualTo(10);
            JsonNode r0 = flowTo(sibling, port);
            assertThat(r0.get("domain").asText()).isEqualTo("a.peekd.test");
            assertThat(r0.get("domain_confidence").asText()).isEqualTo("medium");

            // A process elsewhere: low.
            Path first = Tgen.copyAs("cdn-client-1");
            Tgen.run(in(loner), first, "tcp-send", "--to", "127.0.0.2:" + port, "--bytes", "10");
            JsonNode r = flowTo(first, port);
            assertThat(r.get("domain").asText()).isEqualTo("a.peekd.test");
            assertThat(r.get("domain_confidence").asText()).isEqualTo("low");

            // A second name on the same address: ambiguous.
            assertThat(resolve(resolvers, "b.peekd.test").ok()).isTrue();
            Path second = Tgen.copyAs("cdn-client-2");
            Tgen.run(in(loner), second, "tcp-send", "--to", "127.0.0.2:" + port, "--bytes", "10");
            JsonNode r2 = flowTo(second, port);
            assertThat(r2.get("domain_confidence").asText()).isEqualTo("low");
            assertThat(r2.get("domain_status").asText()).isEqualTo("ambiguous");
        } finally {
            for (Path cg : List.of(resolvers, loner)) {
                long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (Files.exists(cg) && System.nanoTime() < deadline) {
                    try {
                        Files.delete(cg);
                    } catch (java.io.IOException busy) {
                        Thread.sleep(100); // the last member is still exiting
                    }
                }
            }
        }
    }
}

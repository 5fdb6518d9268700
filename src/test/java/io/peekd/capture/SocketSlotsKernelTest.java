package io.peekd.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The per-socket counter slots (peekd.bpf.c, SlotDrainer) with a deliberately tiny slots array: slots
 * must be handed back and reused without losing or doubling a byte, and
 * sockets that find none free must be counted exactly on the hash path.
 * Loopback only; every loop is bounded in count.
 */
class SocketSlotsKernelTest {
    private static final int WRITES = 10, CHUNK = 1000;

    @Test
    void manyMoreShortLivedSocketsThanSlotsAreCountedExactly() throws Exception {
        KernelProbe.Result probe = Kernel.require();
        int slots = 4, connections = 60;
        try (Capture cap = Capture.start(probe, new Capture.Options(65536, 1024, 300, slots), e -> { });
             ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            assertThat(cap.fastPath()).isTrue();
            Totals t = new Totals(ss.getLocalPort());
            t.add(cap.drain());
            for (int i = 0; i < connections; i++) {
                exchange(ss, 1);
                // Slots come back at a drain, so draining after each pair of sockets keeps two free.
                t.add(cap.drain());
            }
            t.assertExchanged(connections);
            CaptureStats st = cap.stats();
            assertThat(st.slots()).isEqualTo(slots);
            assertThat(st.losses()).isZero();
            // Each socket's first call takes the hash path, its other calls the slot (other processes' sockets
            // on this machine may take a slot now and then, so not every one of ours finds one).
            assertThat(cap.slotSendCalls()).as("sends counted in slots").isGreaterThanOrEqualTo((long) connections * (WRITES - 1));
        }
    }

    @Test
    void socketsThatFindNoFreeSlotAreCountedExactlyOnTheHashPath() throws Exception {
        KernelProbe.Result probe = Kernel.require();
        int slots = 2, connections = 8;
        try (Capture cap = Capture.start(probe, new Capture.Options(65536, 1024, 300, slots), e -> { });
             ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            Totals t = new Totals(ss.getLocalPort());
            t.add(cap.drain());
            // All sockets open at once, no drain in between: most find the slots taken.
            exchange(ss, connections);
            // One datagram socket sending to several destinations: only the first has the slot.
            long udp = udpToSeveralDestinations();
            t.add(cap.drain());
            t.assertExchanged(connections);
            assertThat(t.udpSent).as("datagrams sent to each destination").isEqualTo(udp);
            assertThat(cap.stats().slotMisses()).as("sockets found no free slot").isPositive();
            assertThat(cap.stats().losses()).isZero();
            // Once the sockets are gone and drained, every slot is free again and serves a new socket exactly.
            t = new Totals(ss.getLocalPort());
            exchange(ss, 1);
            t.add(cap.drain());
            assertThat(t.clientSent).isEqualTo((long) WRITES * CHUNK);
            assertThat(t.serverRecv).isEqualTo((long) WRITES * CHUNK);
        }
    }

    @Test
    void bytesOfAnOpenSocketShowAtEachDrainAndItsLastBytesAfterClose() throws Exception {
        KernelProbe.Result probe = Kernel.require();
        try (Capture cap = Capture.start(probe, new Capture.Options(65536, 1024, 300, 8), e -> { });
             ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            Totals t = new Totals(ss.getLocalPort());
            t.add(cap.drain());
            try (Socket c = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort()); Socket s = ss.accept()) {
                OutputStream out = c.getOutputStream();
                InputStream in = s.getInputStream();
                for (int round = 1; round <= 3; round++) {
                    for (int i = 0; i < WRITES; i++) out.write(new byte[CHUNK]);
                    out.flush();
                    in.readNBytes(WRITES * CHUNK);
                    t.add(cap.drain());
                    assertThat(t.clientSent).as("after round %d", round).isEqualTo((long) round * WRITES * CHUNK);
                    assertThat(t.serverRecv).as("after round %d", round).isEqualTo((long) round * WRITES * CHUNK);
                    assertThat(cap.stats().slotsInUse()).as("both ends hold a slot").isGreaterThanOrEqualTo(2);
                }
                out.write(new byte[123]);
                out.flush();
                in.readNBytes(123);
            }
            t.add(cap.drain());
            assertThat(t.clientSent).isEqualTo(3L * WRITES * CHUNK + 123);
            assertThat(t.serverRecv).isEqualTo(3L * WRITES * CHUNK + 123);
        }
    }

    /** Opens {@code n} connections at once; each side writes WRITES chunks, then all close. */
    private static void exchange(ServerSocket ss, int n) throws Exception {
        List<Socket> clients = new ArrayList<>(), servers = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                clients.add(new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort()));
                servers.add(ss.accept());
            }
            for (int i = 0; i < n; i++) {
                for (int w = 0; w < WRITES; w++) {
                    clients.get(i).getOutputStream().write(new byte[CHUNK]);
                    servers.get(i).getOutputStream().write(new byte[CHUNK]);
                }
            }
            for (int i = 0; i < n; i++) {
                servers.get(i).getInputStream().readNBytes(WRITES * CHUNK);
                clients.get(i).getInputStream().readNBytes(WRITES * CHUNK);
            }
        } finally {
            for (Socket s : clients) s.close();
            for (Socket s : servers) s.close();
        }
    }

    private static final int UDP_ROUNDS = 5, UDP_LEN = 64;

    /** Sends UDP_ROUNDS datagrams to each of three receivers from one unconnected socket; returns bytes per receiver. */
    private long udpToSeveralDestinations() throws Exception {
        InetAddress lo = InetAddress.getLoopbackAddress();
        try (DatagramSocket a = new DatagramSocket(0, lo); DatagramSocket b = new DatagramSocket(0, lo);
             DatagramSocket c = new DatagramSocket(0, lo); DatagramSocket tx = new DatagramSocket(0, lo)) {
            udpPorts = new int[] {a.getLocalPort(), b.getLocalPort(), c.getLocalPort()};
            udpSender = tx.getLocalPort();
            for (int r = 0; r < UDP_ROUNDS; r++)
                for (DatagramSocket to : List.of(a, b, c))
                    tx.send(new DatagramPacket(new byte[UDP_LEN], UDP_LEN, new InetSocketAddress(lo, to.getLocalPort())));
            for (DatagramSocket to : List.of(a, b, c)) {
                to.setSoTimeout(2000);
                for (int r = 0; r < UDP_ROUNDS; r++) to.receive(new DatagramPacket(new byte[UDP_LEN], UDP_LEN));
            }
        }
        return (long) UDP_ROUNDS * UDP_LEN;
    }

    private int[] udpPorts = new int[0];
    private int udpSender = -1;

    /** This JVM's bytes on the test's flows, summed over drains. */
    private final class Totals {
        final int serverPort, me = (int) ProcessHandle.current().pid();
        long clientSent, clientRecv, serverSent, serverRecv, clientConns;
        /** Sent to each UDP destination; -1 when they differ. */
        long udpSent;
        final java.util.Map<Integer, Long> perDestination = new java.util.HashMap<>();

        Totals(int serverPort) {
            this.serverPort = serverPort;
        }

        /** Every byte of {@code connections} exchanges, both ways, at both ends, and one connection each. */
        void assertExchanged(int connections) {
            long expected = (long) connections * WRITES * CHUNK;
            assertThat(clientSent).as("client sent").isEqualTo(expected);
            assertThat(serverRecv).as("server received").isEqualTo(expected);
            assertThat(serverSent).as("server sent").isEqualTo(expected);
            assertThat(clientRecv).as("client received").isEqualTo(expected);
            assertThat(clientConns).as("client connections").isEqualTo(connections);
        }

        void add(List<FlowDelta> deltas) {
            for (FlowDelta d : deltas) {
                FlowKey k = d.key();
                if (k.tgid() != me) continue;
                if (k.protoName().equals("tcp") && k.rport() == serverPort) {
                    clientSent += d.sent();
                    clientRecv += d.recv();
                    clientConns += d.conns();
                } else if (k.protoName().equals("tcp") && k.lport() == serverPort) {
                    serverSent += d.sent();
                    serverRecv += d.recv();
                } else if (k.protoName().equals("udp") && k.lport() == udpSender) {
                    perDestination.merge(k.rport(), d.sent(), Long::sum);
                }
            }
            if (udpPorts.length > 0) {
                long first = perDestination.getOrDefault(udpPorts[0], 0L);
                boolean same = true;
                for (int p : udpPorts) same &= perDestination.getOrDefault(p, 0L) == first;
                udpSent = same ? first : -1;
            }
        }
    }
}

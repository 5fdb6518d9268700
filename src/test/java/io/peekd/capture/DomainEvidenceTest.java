package io.peekd.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The kernel hands us domain evidence: first bytes of client flows, DNS messages, getaddrinfo results. */
class DomainEvidenceTest {

    private static <T> List<T> waitFor(List<KernelEvent> events, Class<T> type, java.util.function.Predicate<T> p)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            List<T> hits;
            synchronized (events) {
                hits = events.stream().filter(type::isInstance).map(type::cast).filter(p).toList();
            }
            if (!hits.isEmpty()) return hits;
            Thread.sleep(50);
        }
        return List.of();
    }

    @Test
    void firstBytesOfAClientFlowAreCapturedOnceAndExactly() throws Exception {
        KernelProbe.Result probe = Kernel.require();
        List<KernelEvent> events = Collections.synchronizedList(new ArrayList<>());
        try (Capture cap = Capture.start(probe, new Capture.Options(65536, 1024, 300), events::add)) {
            byte[] head = "GET /x HTTP/1.1\r\nHost: evidence.test\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
            int clientPort;
            try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                Thread server = Thread.ofPlatform().start(() -> {
                    try (Socket s = ss.accept(); InputStream in = s.getInputStream()) {
                        in.readNBytes(head.length + 5);
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                try (Socket c = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort())) {
                    clientPort = c.getLocalPort();
                    OutputStream out = c.getOutputStream();
                    out.write(head);
                    out.flush();
                    Thread.sleep(50);
                    out.write("later".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                }
                server.join();
            }
            int me = (int) ProcessHandle.current().pid();
            List<KernelEvent.Payload> firsts = waitFor(events, KernelEvent.Payload.class,
                    p -> !p.dns() && p.key().lport() == clientPort);
            assertThat(firsts).hasSize(1);
            KernelEvent.Payload p = firsts.getFirst();
            assertThat(p.data()).isEqualTo(head);
            assertThat(p.origLen()).isEqualTo(head.length);
            assertThat(p.key().tgid()).isEqualTo(me);
            assertThat(p.key().remoteAddress()).isEqualTo("127.0.0.1");
        }
    }

    @Test
    void getaddrinfoResultsNameTheProcessAndItsAddresses() throws Exception {
        KernelProbe.Result probe = Kernel.require();
        List<KernelEvent> events = Collections.synchronizedList(new ArrayList<>());
        try (Capture cap = Capture.start(probe, new Capture.Options(65536, 1024, 300), events::add)) {
            assertThat(cap.resolverProbe()).startsWith("attached");
            Process getent = new ProcessBuilder("getent", "ahosts", "localhost").redirectErrorStream(true).start();
            String out = new String(getent.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(getent.waitFor(10, TimeUnit.SECONDS)).isTrue();
            List<KernelEvent.Resolved> hits = waitFor(events, KernelEvent.Resolved.class,
                    r -> r.tgid() == getent.pid() && r.name().equals("localhost"));
            assertThat(hits).isNotEmpty();
            List<String> got = hits.getFirst().addresses().stream().map(InetAddress::getHostAddress).distinct().toList();
            List<String> expected = out.lines().map(l -> l.split("\\s+")[0]).distinct()
                    .map(a -> {
                        try {
                            return InetAddress.getByName(a).getHostAddress();
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    }).toList();
            assertThat(got).containsExactlyInAnyOrderElementsOf(expected);
        }
    }
}

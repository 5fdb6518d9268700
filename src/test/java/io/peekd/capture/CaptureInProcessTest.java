package io.peekd.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Loads the real programs and moves real loopback TCP traffic from this JVM. */
class CaptureInProcessTest {

    @Test
    void tcpLoopbackBytesAreExactPerDirection() throws Exception {
        KernelProbe.Result probe = Kernel.require();
        List<KernelEvent> events = java.util.Collections.synchronizedList(new ArrayList<>());
        try (Capture cap = Capture.start(probe, new Capture.Options(65536, 1024, 300), events::add)) {
            cap.drain();
            int upload = 1_234_567, download = 765_432;
            int clientPort;
            int serverPort;
            try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                serverPort = ss.getLocalPort();
                Thread server = Thread.ofPlatform().start(() -> {
                    try (Socket s = ss.accept(); InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                        byte[] buf = new byte[65536];
                        long got = 0;
                        while (got < upload) {
                            int n = in.read(buf);
                            if (n < 0) break;
                            got += n;
                        }
                        out.write(new byte[download]);
                        out.flush();
                    } catch (Exception e) {
                        throw new RuntimeException(e);
                    }
                });
                try (Socket c = new Socket(InetAddress.getLoopbackAddress(), serverPort)) {
                    clientPort = c.getLocalPort();
                    c.getOutputStream().write(new byte[upload]);
                    c.getOutputStream().flush();
                    InputStream in = c.getInputStream();
                    byte[] buf = new byte[65536];
                    long got = 0;
                    while (got < download) {
                        int n = in.read(buf);
                        if (n < 0) break;
                        got += n;
                    }
                }
                server.join();
            }
            Thread.sleep(200);
            List<FlowDelta> deltas = new ArrayList<>(cap.drain());
            int me = (int) ProcessHandle.current().pid();
            long cs = 0, cr = 0, ss2 = 0, sr = 0, cconns = 0;
            for (FlowDelta d : deltas) {
                if (d.key().tgid() != me || !d.key().protoName().equals("tcp")) continue;
                if (d.key().lport() == clientPort && d.key().rport() == serverPort) {
                    cs += d.sent(); cr += d.recv(); cconns += d.conns();
                }
                if (d.key().lport() == serverPort && d.key().rport() == clientPort) {
                    ss2 += d.sent(); sr += d.recv();
                }
            }
            assertThat(cs).as("client sent").isEqualTo(upload);
            assertThat(cr).as("client received").isEqualTo(download);
            assertThat(sr).as("server received").isEqualTo(upload);
            assertThat(ss2).as("server sent").isEqualTo(download);
            assertThat(cconns).as("client connections").isEqualTo(1);
            assertThat(cap.stats().losses()).isZero();
        }
    }

    @Test
    void anExecCarriesItsProgramAndItsWorkingDirectoryFromTheKernel() throws Exception {
        KernelProbe.Result probe = Kernel.require();
        List<KernelEvent> events = java.util.Collections.synchronizedList(new ArrayList<>());
        // A directory deeper than one name and on the test file system, so the walk crosses a few dentries.
        java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("peekd-cwd-").resolve("in here");
        java.nio.file.Files.createDirectories(dir);
        String trueBin = java.nio.file.Path.of("/bin/true").toRealPath().toString();
        try (Capture cap = Capture.start(probe, new Capture.Options(65536, 1024, 300), events::add)) {
            Process p = new ProcessBuilder(trueBin).directory(dir.toFile()).start();
            assertThat(p.waitFor()).isZero();
            int pid = (int) p.pid();
            long deadline = System.nanoTime() + 10_000_000_000L;
            KernelEvent.Exec x = null;
            while (x == null && System.nanoTime() < deadline) {
                synchronized (events) {
                    // The JVM may exec a spawn helper first in the same pid: look for the program itself.
                    x = events.stream().filter(e -> e instanceof KernelEvent.Exec ex && ex.tgid() == pid
                                    && trueBin.equals(ex.exePath()))
                            .map(e -> (KernelEvent.Exec) e).findFirst().orElse(null);
                }
                if (x == null) Thread.sleep(20);
            }
            assertThat(x).as("exec event of pid %d", pid).isNotNull();
            // The process is gone: only the kernel can have told us where it ran.
            assertThat(x.cwd()).isEqualTo(dir.toRealPath().toString());
        } finally {
            java.nio.file.Files.deleteIfExists(dir);
            java.nio.file.Files.deleteIfExists(dir.getParent());
        }
    }
}

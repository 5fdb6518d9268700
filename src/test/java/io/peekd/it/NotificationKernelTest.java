package io.peekd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.testkit.NetNs;
import io.peekd.testkit.SessionBus;
import io.peekd.testkit.Tgen;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The daemon, as root, tells the desktop user about a new executable it saw on the network. */
class NotificationKernelTest {

    @Test
    void aNewExecutableThatConnectsShowsUpOnTheDesktopUsersBus() throws Exception {
        // Loopback is ignored, so that other tests' programs on this machine do not use up the rate limit;
        // this test talks to a peer in its own network namespace.
        try (SessionBus bus = SessionBus.start(true);
             NetNs ns = NetNs.create();
             DaemonHarness peekd = DaemonHarness.start(Map.of(
                     "desktop", "user = \"nobody\"\nbus_address = \"unix:path=" + bus.socket() + "\"",
                     "log", "ignore_ips = [\"127.0.0.0/8\", \"::1/128\"]"))) {
            Path cli = Tgen.copyAs("eid-note");
            String peer = ns.peerV4().getHostAddress();
            try (Tgen.Running server = Tgen.start(ns, Tgen.copyAs("eid-notesrv"), "tcp-sink", "--listen", peer + ":0",
                    "--bytes", "100")) {
                Tgen.run(cli, "tcp-send", "--to", peer + ":" + server.port(), "--bytes", "100", "--dev", ns.hostIf());
                server.await();
            }
            long deadline = System.nanoTime() + 20_000_000_000L;
            List<SessionBus.Received> got = bus.received();
            while (got.stream().noneMatch(r -> r.summary().equals("New executable: eid-note")) && System.nanoTime() < deadline) {
                Thread.sleep(100);
                got = bus.received();
            }
            assertThat(got).anySatisfy(r -> {
                assertThat(r.summary()).isEqualTo("New executable: eid-note");
                assertThat(r.body()).contains(cli.toString()).contains("sha256 " + ExeIdentityKernelTest.sha256(cli));
                assertThat(r.body()).contains("talked to " + peer);
                assertThat(r.urgency()).isEqualTo(1);
            });
        }
    }
}

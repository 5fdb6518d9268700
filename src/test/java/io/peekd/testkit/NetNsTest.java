package io.peekd.testkit;

import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class NetNsTest {

    @Test
    void createsAnIsolatedPairOfAddressesRoutedThroughItsOwnVeth() {
        try (NetNs ns = NetNs.create()) {
            assertThat(ns.name()).matches("peekd-[0-9a-f]{8}");
            assertThat(ns.exists()).isTrue();
            assertThat(ns.hostV4()).isInstanceOf(Inet4Address.class);
            assertThat(ns.peerV6()).isInstanceOf(Inet6Address.class);

            int host = ByteBuffer.wrap(ns.hostV4().getAddress()).getInt();
            int peer = ByteBuffer.wrap(ns.peerV4().getAddress()).getInt();
            assertThat(host >>> 16).as("inside 10.231.0.0/16").isEqualTo((10 << 8) | 231);
            assertThat(host & ~3).as("one /30").isEqualTo(peer & ~3);
            assertThat(host & 3).isEqualTo(1);
            assertThat(peer & 3).isEqualTo(2);
            assertThat(NetNs.text(ns.hostV6())).startsWith("fd77:7065:656b:").endsWith("::1").doesNotContain("%");
            assertThat(NetNs.text(ns.peerV6())).startsWith("fd77:7065:656b:").endsWith("::2");
            String shown = Exec.check("ip", "-o", "-6", "addr", "show", "dev", ns.hostIf()).stdout();
            assertThat(shown).contains(" " + NetNs.text(ns.hostV6()) + "/64 ");

            assertThat(Exec.check("ip", "route", "get", ns.peerV4().getHostAddress()).stdout()).contains("dev " + ns.hostIf() + " ");
            assertThat(Exec.check("ip", "-6", "route", "get", ns.peerV6().getHostAddress()).stdout()).contains("dev " + ns.hostIf() + " ");

            Exec links = ns.exec("ip", "-o", "link", "show").requireOk();
            assertThat(links.stdout()).contains(ns.peerIf() + "@").doesNotContain(ns.hostIf() + "@");
            assertThat(ns.exec("ip", "-o", "link", "show", "lo").requireOk().stdout()).contains("UP");
            // No way out: nothing but the /30, the /64 and loopback is reachable from inside.
            assertThat(ns.exec("ip", "route", "show", "default").requireOk().stdout()).isBlank();
            assertThat(ns.exec("ip", "-6", "route", "show", "default").requireOk().stdout()).isBlank();
            assertThat(ns.exec("sysctl", "-n", "net.ipv4.ping_group_range").requireOk().stdout().strip())
                    .isEqualTo("0\t2147483647");
        }
    }

    @Test
    void printsAddressesTheWayIpDoes() throws Exception {
        assertThat(NetNs.text(InetAddress.getByName("fd77:7065:656b:5ce:0:0:0:1"))).isEqualTo("fd77:7065:656b:5ce::1");
        assertThat(NetNs.text(InetAddress.getByName("0:0:0:0:0:0:0:1"))).isEqualTo("::1");
        assertThat(NetNs.text(InetAddress.getByName("fd77:0:0:1:0:0:0:2"))).isEqualTo("fd77:0:0:1::2");
        assertThat(NetNs.text(InetAddress.getByName("fd77:1:0:1:1:1:1:2"))).isEqualTo("fd77:1:0:1:1:1:1:2");
        assertThat(NetNs.text(InetAddress.getByName("fd77:0:0:0:0:0:0:0"))).isEqualTo("fd77::");
        assertThat(NetNs.text(InetAddress.getByName("10.231.0.5"))).isEqualTo("10.231.0.5");
    }

    @Test
    void twoAtOnceGetDifferentNamesLinksAndSubnets() {
        try (NetNs a = NetNs.create(); NetNs b = NetNs.create()) {
            assertThat(a.name()).isNotEqualTo(b.name());
            assertThat(a.hostIf()).isNotEqualTo(b.hostIf());
            assertThat(a.peerV4()).isNotEqualTo(b.peerV4());
            assertThat(a.peerV6()).isNotEqualTo(b.peerV6());
        }
    }

    @Test
    void closeRemovesEverythingAndKillsWhatRunsInside() throws Exception {
        NetNs ns = NetNs.create();
        Process sleeper = ns.start("sleep", "30");
        String hostIf = ns.hostIf();
        ns.close();
        assertThat(sleeper.waitFor(10, TimeUnit.SECONDS)).as("process inside killed").isTrue();
        assertThat(ns.exists()).isFalse();
        assertThat(Exec.run("ip", "link", "show", hostIf).ok()).as("host veth gone").isFalse();
        ns.close(); // twice is harmless
    }

    @Test
    void commandsRunInsideWithTheirExitCodeAndOutput() {
        try (NetNs ns = NetNs.create()) {
            Exec e = ns.exec("sh", "-c", "ip -o addr show dev " + ns.peerIf() + "; echo oops >&2; exit 3");
            assertThat(e.exitCode()).isEqualTo(3);
            assertThat(e.stdout()).contains(ns.peerV4().getHostAddress() + "/30");
            assertThat(e.stderr()).isEqualTo("oops\n");
        }
    }
}

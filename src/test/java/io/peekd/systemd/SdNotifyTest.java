package io.peekd.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.bpf.UnixDatagram;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** sd_notify over real Unix datagram sockets, path and abstract, with the test standing in for systemd. */
class SdNotifyTest {

    @Test
    void sendsStateToAPathSocket(@TempDir Path dir) {
        String path = dir.resolve("notify").toString();
        try (UnixDatagram systemd = UnixDatagram.bind(path);
             SdNotify n = SdNotify.from(Map.of("NOTIFY_SOCKET", path, "WATCHDOG_USEC", "3000000"), 7)) {
            assertThat(n.enabled()).isTrue();
            assertThat(n.watchdogTimeout()).contains(Duration.ofSeconds(3));
            n.ready("capturing\nwith a newline");
            assertThat(systemd.receive(Duration.ofSeconds(5))).isEqualTo("READY=1\nSTATUS=capturing with a newline");
            n.watchdog();
            assertThat(systemd.receive(Duration.ofSeconds(5))).isEqualTo("WATCHDOG=1");
            n.reloading();
            assertThat(systemd.receive(Duration.ofSeconds(5))).startsWith("RELOADING=1\nMONOTONIC_USEC=");
            n.stopping();
            assertThat(systemd.receive(Duration.ofSeconds(5))).isEqualTo("STOPPING=1");
            assertThat(systemd.receive(Duration.ofMillis(200))).isNull();
        }
    }

    @Test
    void reachesAnAbstractSocketAsSystemdUsesThem() {
        String name = "@peekd-test-" + UUID.randomUUID();
        try (UnixDatagram systemd = UnixDatagram.bind(name); SdNotify n = SdNotify.from(Map.of("NOTIFY_SOCKET", name), 1)) {
            n.status("hello");
            assertThat(systemd.receive(Duration.ofSeconds(5))).isEqualTo("STATUS=hello");
        }
    }

    @Test
    void withoutSystemdEverythingIsQuietAndAGoneSocketIsNotFatal(@TempDir Path dir) {
        try (SdNotify off = SdNotify.from(Map.of(), 1)) {
            assertThat(off.enabled()).isFalse();
            assertThat(off.watchdogTimeout()).isEmpty();
            off.ready("x");
        }
        // The watchdog belongs to another process: not ours to answer.
        try (SdNotify other = SdNotify.from(Map.of("NOTIFY_SOCKET", "/x", "WATCHDOG_USEC", "1000", "WATCHDOG_PID", "99"), 1)) {
            assertThat(other.watchdogTimeout()).isEmpty();
        }
        try (SdNotify gone = SdNotify.from(Map.of("NOTIFY_SOCKET", dir.resolve("nobody").toString()), 1)) {
            gone.ready("x");
            gone.watchdog();
        }
    }
}

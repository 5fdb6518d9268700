package io.peekd.notify;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.flow.Flag;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.flow.Notice;
import io.peekd.testkit.SessionBus;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Against a real session bus run by an unprivileged user, with a real server
 * owning org.freedesktop.Notifications: what peekd (root) shows on a desktop.
 */
class DesktopNotifierTest {
    static final Instant T = Instant.parse("2026-11-22T10:00:00Z");
    SessionBus bus;
    DesktopNotifier notifier;

    /** A clock the test moves, so rate limits are tested without waiting. */
    static final class Clock implements InstantSource {
        Instant now = T;

        @Override
        public Instant instant() {
            return now;
        }
    }

    final Clock clock = new Clock();

    DesktopNotifier notifier(Path socket, int burst) {
        notifier = new DesktopNotifier(new DesktopNotifier.Settings("nobody", socket.toString(), Path.of("/etc/passwd"),
                burst, Duration.ofMinutes(1)), clock);
        return notifier;
    }

    @AfterEach
    void stop() throws Exception {
        if (notifier != null) notifier.close();
        if (bus != null) bus.close();
    }

    static FlowRow row(String exe, String sha, int flags) {
        Identity id = new Identity(exe, exe.substring(exe.lastIndexOf('/') + 1), null, sha, 42, "/usr/bin/bash", "bash",
                null, "b".repeat(64), 1, 0, "root", null, null);
        return new FlowRow(T, id, "tcp", 4, "10.0.0.1", 40000, "93.184.216.34", 443, "example.org", "dns", "high",
                100, 200, 1, flags);
    }

    @Test
    void newAndChangedExecutablesReachTheDesktopOncePerExecutableWithTheirUrgency() throws Exception {
        bus = SessionBus.start(true);
        notifier(bus.socket(), 10);
        String a = "a".repeat(64);
        notifier.onBatch(T, List.of(
                row("/opt/tool/fetch", a, Flag.NEW_EXE.bit),
                row("/opt/tool/fetch", a, Flag.NEW_EXE.bit), // the same executable on another flow
                row("/usr/bin/curl", a, Flag.NEW_HASH.bit | Flag.PACKAGED.bit),
                row("/usr/bin/ssh", a, Flag.NEW_HASH.bit | Flag.PACKAGE_MISMATCH.bit),
                row("/usr/bin/wget", a, Flag.NEW_HASH.bit),
                row("/usr/bin/true", a, 0)));
        notifier.awaitIdle();
        List<SessionBus.Received> got = bus.await(4);
        assertThat(got).extracting(SessionBus.Received::summary).containsExactly(
                "New executable: fetch", "Executable updated: curl",
                "Executable changed outside its package: ssh", "Executable changed: wget");
        assertThat(got).extracting(SessionBus.Received::urgency).containsExactly(1, 0, 2, 2);
        assertThat(got.getFirst().body()).contains("/opt/tool/fetch").contains("sha256 " + a)
                .contains("started by /usr/bin/bash").contains("example.org (93.184.216.34):443");
        // The bus itself vouches that the caller was the desktop user, not root.
        assertThat(bus.uidOf(got.getFirst().sender())).isEqualTo(SessionBus.NOBODY);
    }

    @Test
    void aRepeatedMessageUpdatesTheNotificationOnScreen() throws Exception {
        bus = SessionBus.start(true);
        notifier(bus.socket(), 10);
        for (int i = 0; i < 4; i++) {
            notifier.onNotice(new Notice(Notice.Severity.ERROR, "error.log", null, "database writer is behind; 3 windows wait"));
        }
        notifier.awaitIdle();
        List<SessionBus.Received> got = bus.await(4);
        assertThat(got).hasSize(4);
        long id = got.getFirst().id();
        assertThat(got.getFirst().replacesId()).isZero();
        assertThat(got.subList(1, 4)).allSatisfy(r -> assertThat(r.replacesId()).isEqualTo(id));
        assertThat(got.getLast().body()).endsWith("(4 times)");
        assertThat(got.getFirst().urgency()).isEqualTo(2);
        assertThat(got.getFirst().summary()).isEqualTo("peekd problem");

        notifier.onNotice(new Notice(Notice.Severity.ERROR, "error.log", null, "capture loss: 3 exec events dropped"));
        notifier.onNotice(new Notice(Notice.Severity.ERROR, "error.log", null, "cannot hash /tmp/x: gone"));
        notifier.awaitIdle();
        got = bus.await(6);
        assertThat(got.get(4).summary()).isEqualTo("peekd lost data");
        assertThat(got.get(4).urgency()).isEqualTo(2);
        assertThat(got.get(5).summary()).isEqualTo("Cannot verify an executable");
        assertThat(got.get(5).urgency()).isEqualTo(1);
    }

    @Test
    void aFloodIsCappedAndSummedUpOnceThereIsRoom() throws Exception {
        bus = SessionBus.start(true);
        notifier(bus.socket(), 3);
        for (int i = 0; i < 10; i++) {
            notifier.onNotice(new Notice(Notice.Severity.WARNING, "error.log", null, "problem number " + i));
        }
        notifier.awaitIdle();
        assertThat(bus.received()).hasSize(3);
        notifier.tickNow();
        assertThat(bus.received()).as("no room yet").hasSize(3);
        clock.now = T.plus(Duration.ofMinutes(1));
        notifier.tickNow();
        List<SessionBus.Received> got = bus.await(4);
        assertThat(got).hasSize(4);
        assertThat(got.getLast().summary()).isEqualTo("peekd: 7 more events");
    }

    @Test
    void withoutANotificationServerOrABusNothingBreaks() throws Exception {
        bus = SessionBus.start(false); // a bus, but nobody owns org.freedesktop.Notifications
        notifier(bus.socket(), 10);
        notifier.onNotice(new Notice(Notice.Severity.ERROR, "error.log", null, "one"));
        notifier.awaitIdle();
        assertThat(notifier.counters().get("shown")).isZero();
        notifier.close();

        notifier(bus.socket().resolveSibling("no-such-bus"), 10);
        for (int i = 0; i < 3; i++) notifier.onNotice(new Notice(Notice.Severity.ERROR, "error.log", null, "x" + i));
        notifier.awaitIdle();
        assertThat(notifier.counters()).containsEntry("shown", 0L).containsEntry("not_shown", 3L);
    }
}

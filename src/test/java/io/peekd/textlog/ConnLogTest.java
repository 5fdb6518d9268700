package io.peekd.textlog;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConnLogTest {

    @TempDir
    Path dir;

    /** A clock the test moves by hand, to cross midnight without waiting for it. */
    static final class HandClock extends Clock {
        Instant now;

        HandClock(Instant now) {
            this.now = now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    static final Instant T = Instant.parse("2026-06-01T23:59:50Z");

    static FlowRow row(String name, String cmdline, String domain, String laddr, int lport) {
        Identity id = new Identity("/usr/bin/" + name, name, cmdline, "ab".repeat(32), 42, "/usr/bin/bash", "bash",
                "-bash", "cd".repeat(32), 1, 1000, "alice", null, null);
        return new FlowRow(T, id, "tcp", 4, laddr, lport, "93.184.216.34", 443, domain, "dns", "high", 120, 4567, 1);
    }

    @Test
    void oneLinePerRowInPicosnitchOrderWithSeparatorsRemoved() throws Exception {
        List<String> errors = new ArrayList<>();
        ConnLog log = new ConnLog(dir, 30, new HandClock(T), errors::add);
        log.onBatch(T, List.of(row("curl", "curl -H a,b\nc\0d https://x", "example.org", "10.0.0.1", 51000),
                // privacy options off: no command line, addresses or ports reach the log either
                row("wget", null, null, null, -1)));
        log.close();
        List<String> lines = Files.readAllLines(dir.resolve("conn.log"));
        assertThat(lines).containsExactly(
                "2026-06-01T23:59:50Z,120,4567,/usr/bin/curl,curl,curl -H abcd https://x," + "ab".repeat(32)
                        + ",/usr/bin/bash,bash,-bash," + "cd".repeat(32) + ",1000,51000,443,10.0.0.1,93.184.216.34,example.org",
                "2026-06-01T23:59:50Z,120,4567,/usr/bin/wget,wget,," + "ab".repeat(32)
                        + ",/usr/bin/bash,bash,-bash," + "cd".repeat(32) + ",1000,,443,,93.184.216.34,");
        for (String l : lines) {
            assertThat(l.split(",", -1)).hasSize(17);
        }
        assertThat(Files.getPosixFilePermissions(dir.resolve("conn.log")))
                .isEqualTo(PosixFilePermissions.fromString("rw-------"));
        assertThat(errors).isEmpty();
    }

    @Test
    void rotatesAtMidnightUtcAndDeletesWhatIsPastRetention() throws Exception {
        HandClock clock = new HandClock(T);
        // Left over from a run a long time ago, and from one recently.
        Files.writeString(dir.resolve("conn.log.2026-01-01"), "old\n");
        Files.writeString(dir.resolve("conn.log.2026-05-30"), "recent\n");
        List<String> errors = new ArrayList<>();
        ConnLog log = new ConnLog(dir, 30, clock, errors::add);
        log.onBatch(T, List.of(row("a", "a", "d", "10.0.0.1", 1)));
        clock.now = Instant.parse("2026-06-02T00:00:03Z");
        log.onBatch(T, List.of(row("b", "b", "d", "10.0.0.1", 1)));
        log.onBatch(T, List.of(row("c", "c", "d", "10.0.0.1", 1)));
        log.close();
        assertThat(Files.readString(dir.resolve("conn.log.2026-06-01"))).contains("/usr/bin/a,").doesNotContain("/usr/bin/b,");
        assertThat(Files.readAllLines(dir.resolve("conn.log"))).hasSize(2);
        assertThat(dir.resolve("conn.log.2026-01-01")).doesNotExist();
        assertThat(dir.resolve("conn.log.2026-05-30")).exists();

        // A restart on a later day moves yesterday's file aside before writing.
        Files.setLastModifiedTime(dir.resolve("conn.log"), FileTime.from(Instant.parse("2026-06-02T12:00:00Z")));
        clock.now = Instant.parse("2026-06-03T08:00:00Z");
        ConnLog again = new ConnLog(dir, 30, clock, errors::add);
        again.onBatch(T, List.of(row("d", "d", "d", "10.0.0.1", 1)));
        again.close();
        assertThat(Files.readAllLines(dir.resolve("conn.log.2026-06-02"))).hasSize(2);
        assertThat(Files.readAllLines(dir.resolve("conn.log"))).hasSize(1);
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).sorted().toList())
                    .containsExactly("conn.log", "conn.log.2026-05-30", "conn.log.2026-06-01", "conn.log.2026-06-02");
        }
        assertThat(errors).isEmpty();
    }

    @Test
    void aDirectoryThatCannotBeWrittenIsReportedOnceAndWritingResumesLater() throws Exception {
        Path blocked = dir.resolve("logs");
        Files.writeString(blocked, "a file where the directory should be");
        List<String> errors = new ArrayList<>();
        ConnLog log = new ConnLog(blocked, 30, new HandClock(T), errors::add);
        log.onBatch(T, List.of(row("a", "a", "d", "10.0.0.1", 1)));
        log.onBatch(T, List.of(row("b", "b", "d", "10.0.0.1", 1)));
        assertThat(errors).singleElement().asString().contains("cannot write").contains("database has them");
        Files.delete(blocked);
        log.onBatch(T, List.of(row("c", "c", "d", "10.0.0.1", 1)));
        log.close();
        assertThat(errors).hasSize(2).last().asString().contains("works again");
        assertThat(Files.readString(blocked.resolve("conn.log"))).contains("/usr/bin/c,");
    }
}

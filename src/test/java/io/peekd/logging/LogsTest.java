package io.peekd.logging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.config.Config;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LogsTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A clock the test moves forward by whole days. */
    static final class DayClock extends Clock {
        Instant now = Instant.parse("2026-03-01T10:00:00Z");

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

    @AfterEach
    void restoreJdkDefaults() throws Exception {
        LogManager.getLogManager().readConfiguration();
    }

    private static List<JsonNode> lines(Path f) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (String l : Files.readAllLines(f)) out.add(JSON.readTree(l));
        return out;
    }

    @Test
    void systemLoggerWritesOneJsonObjectPerLineAtTheConfiguredLevel(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("log/peekd.log");
        Logs.configure(log, Config.Log.Level.INFO);
        System.Logger l = System.getLogger("peekd.test");
        l.log(System.Logger.Level.INFO, "started \"x\"\nsecond line");
        l.log(System.Logger.Level.DEBUG, "per-packet detail that must not appear at info");
        l.log(System.Logger.Level.ERROR, "it broke", new IllegalStateException("boom"));
        List<JsonNode> rows = lines(log);
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).get("level").asText()).isEqualTo("INFO");
        assertThat(rows.get(0).get("msg").asText()).isEqualTo("started \"x\"\nsecond line");
        assertThat(rows.get(0).get("logger").asText()).isEqualTo("peekd.test");
        assertThat(Instant.parse(rows.get(0).get("ts").asText())).isBefore(Instant.now().plusSeconds(1));
        assertThat(rows.get(1).get("level").asText()).isEqualTo("ERROR");
        assertThat(rows.get(1).get("error").asText()).contains("IllegalStateException: boom", "at io.peekd");

        Logs.setLevel(Config.Log.Level.DEBUG);
        l.log(System.Logger.Level.DEBUG, "now visible");
        l.log(System.Logger.Level.TRACE, "still hidden");
        Logs.setLevel(Config.Log.Level.TRACE);
        l.log(System.Logger.Level.TRACE, "trace visible");
        assertThat(lines(log)).extracting(n -> n.get("msg").asText()).endsWith("now visible", "trace visible")
                .doesNotContain("still hidden");
    }

    @Test
    void rollsDailyAndKeepsABoundedNumberOfDays(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("peekd.log");
        DayClock clock = new DayClock();
        DailyFileHandler h = new DailyFileHandler(log, 3, clock);
        for (int d = 0; d < 6; d++) {
            h.publish(new LogRecord(Level.INFO, "day " + d));
            clock.now = clock.now.plus(Duration.ofDays(1));
        }
        h.publish(new LogRecord(Level.INFO, "day 6"));
        h.close();
        try (Stream<Path> s = Files.list(dir)) {
            assertThat(s.map(p -> p.getFileName().toString()).sorted())
                    .containsExactly("peekd.log", "peekd.log.2026-03-04", "peekd.log.2026-03-05", "peekd.log.2026-03-06");
        }
        assertThat(lines(log)).extracting(n -> n.get("msg").asText()).containsExactly("day 6");
        assertThat(lines(dir.resolve("peekd.log.2026-03-06"))).extracting(n -> n.get("msg").asText()).containsExactly("day 5");
    }

    @Test
    void aFileLeftFromAnEarlierDayIsRolledAtStart(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("peekd.log");
        Files.writeString(log, "{\"msg\":\"old\"}\n");
        Files.setLastModifiedTime(log, FileTime.from(Instant.parse("2026-02-27T23:00:00Z")));
        DailyFileHandler h = new DailyFileHandler(log, 3, new DayClock());
        h.publish(new LogRecord(Level.WARNING, "new"));
        h.close();
        assertThat(Files.readString(dir.resolve("peekd.log.2026-02-27"))).contains("old");
        assertThat(lines(log)).extracting(n -> n.get("level").asText()).containsExactly("WARN");
    }

    @Test
    void anUnwritableDirectoryLosesTheLineButNotTheProcess(@TempDir Path dir) throws Exception {
        Path notADir = dir.resolve("file");
        Files.writeString(notADir, "x");
        DailyFileHandler h = new DailyFileHandler(notADir.resolve("peekd.log"), 3, new DayClock());
        h.publish(new LogRecord(Level.SEVERE, "lost"));
        h.publish(new LogRecord(Level.SEVERE, "lost again"));
        h.close();
        assertThat(Files.readString(notADir)).isEqualTo("x");
    }
}

package io.peekd.web;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.peekd.flow.FlowRow;
import io.peekd.store.Store;

/** The dashboard's live feed when no daemon runs in-process: it follows the database file. */
class LiveTailTest {

    @TempDir
    Path dir;

    private static void store(Path db, FlowRow... rows) throws Exception {
        try (Store s = Store.open(db)) {
            assertThat(s.writer().submit(List.of(rows))).isTrue();
            assertThat(s.writer().flush(Duration.ofSeconds(30))).isTrue();
        }
    }

    private static List<String> exes(Views.Tail t) {
        return t.rows().stream().map(r -> r.id().exe() + "@" + r.time().getEpochSecond()).toList();
    }

    @Test
    void newRowsShowOnceIncludingWindowsStoredLateAndSecondBatchesOfAWindow() throws Exception {
        Path db = dir.resolve("peekd.db");
        Instant now = Instant.ofEpochSecond(Instant.now().getEpochSecond());
        store(db, TestDb.row(now, TestDb.CURL, "tcp", 4, "93.184.216.34", 443, "example.org", 10, 20));
        Views v = new Views(new Db(db, 1), true);

        Views.Tail start = v.after(null, 5000);
        assertThat(start.rows()).as("the feed starts at the present").isEmpty();
        assertThat(v.after(start.cursor(), 5000).rows()).isEmpty();

        // A newer window, another row of the newest window, and one from 30 s ago that was held
        // back (as the daemon does while it hashes a new executable): all new, each shown once.
        store(db, TestDb.row(now.plusSeconds(5), TestDb.WGET, "tcp", 4, "192.0.2.10", 80, null, 1, 2),
                TestDb.row(now, TestDb.FIREFOX, "tcp", 4, "203.0.113.9", 443, null, 3, 4),
                TestDb.row(now.minusSeconds(30), TestDb.SSHD, "tcp", 4, "198.51.100.7", 22, null, 5, 6));
        Views.Tail next = v.after(start.cursor(), 5000);
        assertThat(exes(next)).containsExactly("/usr/sbin/sshd@" + (now.getEpochSecond() - 30),
                "/usr/lib/firefox/firefox@" + now.getEpochSecond(), "/usr/bin/wget@" + (now.getEpochSecond() + 5));
        assertThat(v.after(next.cursor(), 5000).rows()).as("nothing twice").isEmpty();

        // Past the lookback, a late window is no longer the live feed's (history views have it).
        store(db, TestDb.row(now.minusSeconds(Views.LATE_SECONDS + 10), TestDb.SSHD, "tcp", 4, "198.51.100.8", 22,
                null, 7, 8));
        assertThat(v.after(next.cursor(), 5000).rows()).isEmpty();

        // A limit cuts a burst; the rest comes on the next call, still once each.
        FlowRow[] burst = new FlowRow[10];
        for (int i = 0; i < burst.length; i++)
            burst[i] = TestDb.row(now.plusSeconds(10 + i), TestDb.CURL, "tcp", 4, "93.184.216." + i, 443, null, i, i);
        store(db, burst);
        Views.Tail a = v.after(next.cursor(), 4);
        Views.Tail b = v.after(a.cursor(), 5000);
        assertThat(a.rows()).hasSize(4);
        assertThat(b.rows()).hasSize(6);
        assertThat(v.after(b.cursor(), 5000).rows()).isEmpty();
    }
}

package io.peekd.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.store.Query;
import io.peekd.store.Reader;
import io.peekd.testkit.Tgen;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The storage operations inside a real daemon with real traffic: live rows through the
 * socket before anything is stored, the text log, reports and retention on its schedule.
 */
class StoreOpsDaemonTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void liveRowsThroughTheSocketThenTheStoredHistory() throws Exception {
        // Hour-long windows (aligned to the clock): the traffic below stays in the open window
        // while we ask, unless the hour ends meanwhile, so keep clear of the last two minutes.
        long intoHour = java.time.Instant.now().getEpochSecond() % 3600;
        if (intoHour > 3480) {
            Thread.sleep((3600 - intoHour + 2) * 1000);
        }
        DaemonHarness peekd = DaemonHarness.start(3600, "text_log = true");
        Path srv = Tgen.copyAs("tg-live-srv"), cli = Tgen.copyAs("tg-live-cli");
        Tgen.Result c, s;
        try {
            assertThat(peekd.dir.resolve("run/peekd.sock")).exists();
            try (Tgen.Running server = Tgen.start(srv, "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "1234567")) {
                c = Tgen.run(cli, "tcp-send", "--to", "127.0.0.1:" + server.port(), "--bytes", "1234567", "--via", "write");
                s = server.await();
            }
            // The socket answers with the open window; the database has nothing of it yet.
            long[] live = peekd.awaitLiveTotals(cli, c.sent(), c.recv());
            assertThat(live[0]).isEqualTo(c.sent());
            assertThat(live[1]).isEqualTo(c.recv());
            try (Reader r = Reader.open(peekd.dir.resolve("data/peekd.db"))) {
                assertThat(r.query(new Query(null, null, null, cli.toString(), 0))).isEmpty();
            }
            // Sums too, through the same socket.
            JsonNode sums = JSON.readTree(peekd.cli("query", "--sum-bytes", "--json", "--exe", srv.toString()));
            assertThat(sums).singleElement().satisfies(t -> assertThat(t.get("recv").asLong()).isEqualTo(s.recv()));

            // Retention ran on its schedule (first round a few seconds after start) and recorded its cutoffs.
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            JsonNode flows = null;
            while (System.nanoTime() < deadline) {
                for (JsonNode t : JSON.readTree(peekd.cli("db", "stats", "--json")).get("tables")) {
                    if (t.get("name").asText().equals("flows")) flows = t;
                }
                if (!flows.get("cutoff").isNull()) break;
                Thread.sleep(500);
            }
            assertThat(flows.get("cutoff").isNull()).as("retention has run").isFalse();
        } finally {
            peekd.close(); // the last window is stored on the way out
        }
        // Stored now: the report reads the rollups, the text log has the same bytes.
        JsonNode rep = JSON.readTree(peekd.cli("report", "--since", "1h", "--by", "exe", "--exe", cli.toString(), "--json"));
        assertThat(rep).singleElement().satisfies(r -> {
            assertThat(r.get("sent").asLong()).isEqualTo(c.sent());
            assertThat(r.get("recv").asLong()).isEqualTo(c.recv());
        });
        List<String> lines = Files.readAllLines(peekd.dir.resolve("log/conn.log")).stream()
                .filter(l -> l.split(",", -1)[3].equals(cli.toString())).toList();
        assertThat(lines).isNotEmpty();
        assertThat(lines.stream().mapToLong(l -> Long.parseLong(l.split(",", -1)[1])).sum()).isEqualTo(c.sent());
        assertThat(peekd.dir.resolve("run/peekd.sock")).doesNotExist();
    }
}

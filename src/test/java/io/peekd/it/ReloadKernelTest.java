package io.peekd.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.config.ConfigLoader;
import io.peekd.testkit.Tgen;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What SIGHUP applies live, on a real daemon with real traffic: ignore rules change, sizes wait for a restart. */
class ReloadKernelTest {

    private static String config(DaemonHarness h, String log, String database) {
        return """
                [paths]
                data_dir = "%s/data"
                run_dir = "%s/run"
                log_dir = "%s/log"

                [database]
                %s

                [capture]
                drain_interval_ms = 200

                [log]
                ignore_domains = []
                ignore_ips = []
                %s
                """.formatted(h.dir, h.dir, h.dir, database, log);
    }

    private static Tgen.Result send(Path cli, Tgen.Running server) {
        return Tgen.run(cli, "tcp-send", "--to", "127.0.0.1:" + server.port(), "--bytes", "40009", "--via", "write");
    }

    @Test
    void newIgnoreRulesApplyAtOnceAndSizeChangesWaitForARestart() throws Exception {
        try (DaemonHarness h = DaemonHarness.start();
             Tgen.Running ignored = Tgen.start(Tgen.copyAs("tg-reload-srv1"), "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "40009");
             Tgen.Running kept = Tgen.start(Tgen.copyAs("tg-reload-srv2"), "tcp-sink", "--listen", "127.0.0.1:0", "--bytes", "40009")) {
            Path cfg = h.dir.resolve("reloaded.toml");
            Files.writeString(cfg, config(h, "ignore_ports = [" + ignored.port() + "]", "write_limit_seconds = 7"));
            List<String> notes = h.daemon().reload(ConfigLoader.load(cfg));
            assertThat(notes).containsExactly("database.write_limit_seconds changes at the next restart");

            Path hidden = Tgen.copyAs("tg-reload-hidden"), shown = Tgen.copyAs("tg-reload-shown");
            send(hidden, ignored);
            Tgen.Result s = send(shown, kept);
            ignored.await();
            kept.await();
            // Windows are handled in order: once the later flow is stored, the earlier one had its chance.
            h.awaitTotals(shown, s.sent(), s.recv());
            assertThat(h.rows(hidden)).as("traffic to an ignored port after the reload").isEmpty();
            assertThat(DaemonHarness.totals(h.rows(shown))[0]).isEqualTo(s.sent());
        }
    }
}

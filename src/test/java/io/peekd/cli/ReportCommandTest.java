package io.peekd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.report.ByteUnits;
import io.peekd.report.ReportOutput;
import io.peekd.store.Reader;
import io.peekd.store.Report;
import io.peekd.store.Retention;
import io.peekd.store.Store;
import io.peekd.testkit.TestConfig;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code peekd report} and {@code peekd db} through the real command line, on a database written here. */
class ReportCommandTest {

    @TempDir
    Path dir;
    Path config;
    Path db;
    static final Instant T = Instant.parse("2026-03-01T10:00:00Z");

    record Run(int rc, String out, String err) {
    }

    Run peekd(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        List<String> argv = new ArrayList<>(List.of(args));
        argv.add(argv.size() > 1 && args[0].equals("db") ? 2 : 1, "--config");
        argv.add(argv.indexOf("--config") + 1, config.toString());
        int rc = Main.run(new PrintWriter(out), new PrintWriter(err), argv.toArray(String[]::new));
        return new Run(rc, out.toString(), err.toString());
    }

    static Identity id(String exe, String name, int uid, String user) {
        return new Identity(exe, name, name + " -x", "ab".repeat(32), 10, "/usr/bin/bash", "bash", "-bash",
                "cd".repeat(32), 1, uid, user, null, null);
    }

    static FlowRow row(Instant t, Identity id, String domain, int rport, long sent, long recv) {
        return new FlowRow(t, id, "tcp", 4, "10.0.0.2", 50000, "192.0.2.1", rport, domain, "dns", "high", sent, recv, 1);
    }

    @BeforeEach
    void setUp() throws Exception {
        config = Files.writeString(dir.resolve("config.toml"), TestConfig.paths(dir));
        db = dir.resolve("data/peekd.db");
        Identity curl = id("/usr/bin/curl", "curl", 1000, "alice");
        Identity ff = id("/usr/lib/firefox/firefox-with-a-rather-long-installation-path/firefox", "firefox", 1000, "alice");
        Identity ntp = id("/usr/sbin/ntpd", "ntpd", 0, "root");
        try (Store s = Store.open(db)) {
            s.writer().submit(List.of(
                    row(T, curl, "example.org", 443, 1_000, 20_000),
                    row(T, ff, "www.example.org", 443, 5_000_000, 300_000_000L),
                    row(T.plusSeconds(5), ff, "cdn.example.net", 443, 1_000_000, 2_000_000),
                    row(T.plusSeconds(3600), ntp, null, 123, 480, 480),
                    row(T.plusSeconds(7200), curl, "example.org", 80, 10, 1_048_576)));
            assertThat(s.writer().flush(Duration.ofSeconds(30))).isTrue();
        }
    }

    @Test
    void jsonAndCsvCarryTheGroupsLargestFirst() throws Exception {
        Run r = peekd("report", "--from", "2026-03-01T09:00:00Z", "--to", "2026-03-01T13:00:00Z", "--by", "exe,domain", "--json");
        assertThat(r.rc()).as(r.err()).isZero();
        JsonNode a = new ObjectMapper().readTree(r.out());
        // curl's two rows to example.org (ports 443 and 80) are one group
        assertThat(a).hasSize(4);
        assertThat(a.get(0).get("domain").asText()).isEqualTo("www.example.org");
        assertThat(a.get(0).get("total").asLong()).isEqualTo(305_000_000L);
        assertThat(a.get(2).get("exe").asText()).isEqualTo("/usr/bin/curl");
        assertThat(a.get(2).get("sent").asLong()).isEqualTo(1_010);
        assertThat(a.get(3).get("domain").isNull()).isTrue();
        assertThat(a.get(3).get("sent").asLong()).isEqualTo(480);

        r = peekd("report", "--from", "2026-03-01T09:00:00Z", "--to", "2026-03-01T13:00:00Z", "--by", "user",
                "--by", "rport", "--csv");
        assertThat(r.out()).isEqualTo("""
                user,rport,sent,recv,total,conns
                alice,443,6001000,302020000,308021000,3
                alice,80,10,1048576,1048586,1
                root,123,480,480,960,1
                """);
    }

    @Test
    void filtersAndWhereOnTheCommandLine() throws Exception {
        Run r = peekd("report", "--from", "2026-03-01", "--to", "2026-03-02", "--by", "domain", "--domain", "example.org",
                "--user", "alice", "--where", "rport != 80", "--csv");
        assertThat(r.rc()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("""
                domain,sent,recv,total,conns
                www.example.org,5000000,300000000,305000000,1
                example.org,1000,20000,21000,1
                """);
        Run bad = peekd("report", "--where", "exe = x or 1 = 1");
        assertThat(bad.rc()).isEqualTo(2);
        assertThat(bad.err()).contains("--where").contains("unknown field \"1\"");
        Run dim = peekd("report", "--by", "exe,colour");
        assertThat(dim.rc()).isEqualTo(2);
        assertThat(dim.err()).contains("unknown dimension \"colour\"").contains("country, asn");
        Run both = peekd("report", "--since", "1h", "--from", "2026-01-01");
        assertThat(both.rc()).isEqualTo(2);
        assertThat(both.err()).contains("either --since or --from");
    }

    @Test
    void theTableIsAlignedLabelledAndFitsTheWidth() {
        Report.Result res;
        try (Reader r = Reader.open(db)) {
            res = r.report(new Report.Spec(Instant.parse("2026-03-01T09:00:00Z"), Instant.parse("2026-03-01T13:00:00Z"),
                    List.of(Report.Dim.EXE, Report.Dim.DOMAIN), Report.Filters.none(), null, 3, OptionalInt.empty()));
        }
        String wide = ReportOutput.table(res, ByteUnits.IEC, ZoneId.of("Europe/Berlin"), 0);
        assertThat(wide).isEqualTo("""
                Traffic by exe, domain, 2026-03-01 10:00:00 to 2026-03-01 14:00:00 (Europe/Berlin, UTC+01:00)
                EXE                                                                    DOMAIN               SENT      RECV     TOTAL  CONNS
                /usr/lib/firefox/firefox-with-a-rather-long-installation-path/firefox  www.example.org  4.77 MiB   286 MiB   291 MiB      1
                /usr/lib/firefox/firefox-with-a-rather-long-installation-path/firefox  cdn.example.net   977 KiB  1.91 MiB  2.86 MiB      1
                /usr/bin/curl                                                          example.org        1010 B  1.02 MiB  1.02 MiB      2
                TOTAL                                                                                   5.72 MiB   289 MiB   295 MiB      5
                4 groups, the largest 3 shown (--top)
                read from: 4h hour rollups
                """);
        String narrow = ReportOutput.table(res, ByteUnits.SI, ZoneId.of("UTC"), 80);
        for (String line : narrow.lines().skip(1).toList()) {
            if (!line.startsWith("read from") && !line.startsWith("4 groups")) {
                assertThat(line.length()).as(line).isLessThanOrEqualTo(80);
            }
        }
        // Paths keep their end (the program's name) when cut; SI units were asked for.
        assertThat(narrow).contains("…ng-installation-path/firefox  www.example.org").contains("MB").doesNotContain("MiB").contains("(UTC, UTC+00:00)");
    }

    @Test
    void dbCommandsWithoutADaemon() throws Exception {
        Run st = peekd("db", "stats", "--json");
        assertThat(st.rc()).as(st.err()).isZero();
        JsonNode s = new ObjectMapper().readTree(st.out());
        assertThat(s.get("schema_version").asInt()).isEqualTo(io.peekd.store.StoreTestAccess.currentSchema());
        JsonNode flows = null;
        for (JsonNode t : s.get("tables")) {
            if (t.get("name").asText().equals("flows")) flows = t;
        }
        assertThat(flows.get("rows").asLong()).isEqualTo(5);
        assertThat(flows.get("oldest").asText()).isEqualTo("2026-03-01T10:00:00Z");
        assertThat(peekd("db", "stats").out()).contains("rollup_day").contains("mirror:     off, 0 rows waiting");

        Run ok = peekd("db", "integrity");
        assertThat(ok.rc()).isZero();
        assertThat(ok.out()).startsWith("integrity: ok");

        Run cp = peekd("db", "checkpoint");
        assertThat(cp.rc()).as(cp.out() + cp.err()).isZero();
        Path wal = Path.of(db + "-wal");
        assertThat(!Files.exists(wal) || Files.size(wal) == 0).as("log truncated").isTrue();

        Run mig = peekd("db", "migrate");
        assertThat(mig.out()).contains("already at schema version " + io.peekd.store.StoreTestAccess.currentSchema());

        // Retention empties the raw table; vacuum then gives the pages back in steps.
        try (Store store = Store.open(db)) {
            for (int i = 0; i < 30; i++) {
                List<FlowRow> batch = new ArrayList<>();
                for (int j = 0; j < 200; j++) {
                    batch.add(row(T.plusSeconds(i * 5L), id("/bin/x" + j, "x", 1, "u"), "d" + j + ".test", 443, 1, 1));
                }
                store.writer().submit(batch);
            }
            store.writer().flush(Duration.ofSeconds(60));
            Retention.run(store, new Retention.Policy(1, 1, 1, 1), T.plus(Duration.ofDays(3)));
        }
        Run v = peekd("db", "vacuum");
        assertThat(v.rc()).as(v.err()).isZero();
        assertThat(v.out()).matches("(?s)vacuum: [1-9]\\d* pages freed.*");
        JsonNode after = new ObjectMapper().readTree(peekd("db", "stats", "--json").out());
        assertThat(after.get("free_pages").asLong()).isZero();
    }

    @Test
    void anEmptyOrMissingHistory() throws Exception {
        Files.writeString(config, """
                [paths]
                data_dir = "%s/none"
                run_dir = "%s/run"
                log_dir = "%s/log"
                """.formatted(dir, dir, dir));
        assertThat(peekd("report", "--json").out()).isEqualTo("[]\n");
        assertThat(peekd("report").out()).startsWith("no data yet");
        Run st = peekd("db", "stats");
        assertThat(st.rc()).isEqualTo(1);
        assertThat(st.err()).contains("no peekd database");
    }
}

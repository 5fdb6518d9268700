package io.peekd.store;

import static io.peekd.store.Rows.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.flow.Flag;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Schema version 2: flags on flows, scripts on identities; and the upgrade of a version 1 file. */
class FlagsAndScriptsTest {
    @TempDir
    Path dir;

    static Identity python(String script, String sha) {
        return new Identity("/usr/bin/python3.11", "python3", "python3 " + script, "dd".repeat(32), 7, "/usr/bin/bash",
                "bash", "-bash", "bb".repeat(32), 1, 1000, "alice", null, null, script, sha);
    }

    @Test
    void flagsAndScriptsAreStoredAndTwoScriptsAreTwoIdentities() throws Exception {
        FlowRow a = tcp(T0, python("/opt/a.py", "a1".repeat(32)), 40000, 10, 20, 1)
                .withIdentity(python("/opt/a.py", "a1".repeat(32)), Flag.NEW_EXE.bit | Flag.PACKAGED.bit);
        FlowRow b = tcp(T0, python("/opt/b.py", "b1".repeat(32)), 40000, 30, 40, 1);
        // Same flow key as a, later batch: bytes add up and the flags are kept (OR).
        FlowRow a2 = tcp(T0, python("/opt/a.py", "a1".repeat(32)), 40000, 1, 2, 0);
        try (Store s = Store.open(dir.resolve("peekd.db"))) {
            assertThat(s.writer().submit(List.of(a, b))).isTrue();
            assertThat(s.writer().submit(List.of(a2))).isTrue();
            assertThat(s.writer().flush(Duration.ofSeconds(60))).isTrue();
            try (Reader r = s.reader()) {
                List<FlowRow> rows = r.query(Query.all());
                assertThat(rows).hasSize(2);
                FlowRow ra = rows.stream().filter(x -> "/opt/a.py".equals(x.id().script())).findFirst().orElseThrow();
                assertThat(ra.id().scriptSha256()).isEqualTo("a1".repeat(32));
                assertThat(ra.sent()).isEqualTo(11);
                assertThat(Flag.names(ra.flags())).containsExactly("NEW_EXE", "PACKAGED");
                FlowRow rb = rows.stream().filter(x -> "/opt/b.py".equals(x.id().script())).findFirst().orElseThrow();
                assertThat(rb.flags()).isZero();
                assertThat(RowJson.toJson(List.of(ra))).contains("\"script\":\"/opt/a.py\"")
                        .contains("\"flags\":[\"NEW_EXE\",\"PACKAGED\"]");
                assertThat(RowJson.toJson(List.of(rb))).contains("\"flags\":[]");
            }
        }
    }

    @Test
    void aVersionOneFileIsUpgradedWithItsRowsIntact() throws Exception {
        Path db = dir.resolve("old.db");
        Sqlite.prepareNativeTmpdir(dir);
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + db)) {
            Schema.migrate(c, db, Schema.MIGRATIONS.subList(0, 1));
            try (Statement st = c.createStatement()) {
                st.execute("INSERT INTO exes (id, path, sha256) VALUES (1, '/usr/bin/curl', '" + "aa".repeat(32) + "')");
                st.execute("INSERT INTO idents (id, exe_id, name, pexe_id, uid) VALUES (1, 1, 'curl', 1, 0)");
                st.execute("INSERT INTO flows (time, ident_id, pid, ppid, proto, family, lport, rport, sent, recv, conns)"
                        + " VALUES (" + T0.getEpochSecond() + ", 1, 5, 1, 'tcp', 4, 1, 443, 100, 200, 1)");
            }
        }
        try (Store s = Store.open(db); Reader r = s.reader()) {
            assertThat(r.stats().schemaVersion()).isEqualTo(Schema.CURRENT);
            assertThat(r.query(Query.all())).singleElement().satisfies(row -> {
                assertThat(row.id().exe()).isEqualTo("/usr/bin/curl");
                assertThat(row.id().script()).isNull();
                assertThat(row.flags()).isZero();
                assertThat(row.sent()).isEqualTo(100);
            });
            // And the upgraded file takes new rows, scripts included.
            assertThat(s.writer().submit(List.of(tcp(T1, python("/opt/a.py", "a1".repeat(32)), 1, 1, 1, 1)))).isTrue();
            assertThat(s.writer().flush(Duration.ofSeconds(60))).isTrue();
            assertThat(r.query(Query.all())).hasSize(2);
        }
    }
}

package io.peekd.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.flow.FlowRow;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Schema step 9: IPv6 addresses stored before it in Java's long form are rewritten to the short one. */
class ShortAddressesTest {

    @TempDir
    Path dir;

    private static final String LONG = "2606:2800:220:1:0:0:0:1", SHORT = "2606:2800:220:1::1";
    private static final String LONG_LOCAL = "fd00:0:0:0:0:0:0:5", SHORT_LOCAL = "fd00::5";

    /** The history with its IPv6 peer as family 6 from a v6 local address, both spelled as given. */
    private static List<List<FlowRow>> v6(List<List<FlowRow>> h, String raddr, String laddr) {
        List<List<FlowRow>> out = new ArrayList<>();
        for (List<FlowRow> b : h) {
            List<FlowRow> nb = new ArrayList<>();
            for (FlowRow r : b) {
                boolean v6 = SHORT.equals(r.raddr());
                nb.add(new FlowRow(r.time(), r.id(), r.proto(), v6 ? 6 : r.family(), v6 ? laddr : r.laddr(), r.lport(),
                        v6 ? raddr : r.raddr(), r.rport(), r.domain(), r.domainSource(), r.domainConfidence(), r.sent(),
                        r.recv(), r.conns()));
            }
            out.add(nb);
        }
        return out;
    }

    @Test
    void anUpgradeRewritesEveryStoredCopyAndOldAndNewRowsStayOneDestination() throws Exception {
        Path current = dir.resolve("current.db"), db = dir.resolve("peekd.db");
        List<List<FlowRow>> h = RollupReportTest.history(4, 500);
        try (Store s = Store.open(current)) {
            // As schema 8 stored them: Java's long form.
            RollupReportTest.store(s, v6(h.subList(0, 300), LONG, LONG_LOCAL));
        }
        RollupReportTest.copyIntoOldSchema(current, db, 8);
        long v6Sent;
        try (Connection c = RollupReportTest.raw(db); Statement st = c.createStatement()) {
            assertThat(count(st, "SELECT count(*) FROM dests WHERE raddr = '" + LONG + "'")).isPositive();
            v6Sent = count(st, "SELECT sum(sent) FROM flows WHERE raddr = '" + LONG + "'");
        }
        try (Store s = Store.open(db)) {
            // New rows, as peekd now spells the same peer.
            RollupReportTest.store(s, v6(h.subList(300, 500), SHORT, SHORT_LOCAL));
        }
        long newSent = 0;
        for (List<FlowRow> b : h.subList(300, 500)) {
            for (FlowRow r : b) if (SHORT.equals(r.raddr())) newSent += r.sent();
        }
        try (Connection c = RollupReportTest.raw(db); Statement st = c.createStatement()) {
            assertThat(count(st, "PRAGMA user_version")).isEqualTo(Schema.CURRENT);
            for (String t : List.of("dests", "rollup_minute", "rollup_hour", "rollup_day", "rollup_dests")) {
                assertThat(count(st, "SELECT count(*) FROM " + t + " WHERE raddr LIKE '%:0:0:%'")).as(t).isZero();
            }
            assertThat(count(st, "SELECT count(*) FROM dests WHERE laddr = '" + SHORT_LOCAL + "'")).isPositive();
            assertThat(count(st, "SELECT count(*) FROM dests WHERE laddr LIKE '%:0:0:%'")).isZero();
            // One destination key for the peer, old and new rows together, at every level.
            assertThat(count(st, "SELECT count(DISTINCT raddr) FROM flows WHERE raddr LIKE '2606:%'")).isEqualTo(1);
            assertThat(count(st, "SELECT sum(sent) FROM flows WHERE raddr = '" + SHORT + "'")).isEqualTo(v6Sent + newSent);
            for (String t : List.of("rollup_minute", "rollup_hour", "rollup_day")) {
                assertThat(count(st, "SELECT sum(sent) FROM " + t + " WHERE raddr = '" + SHORT + "'")).as(t)
                        .isEqualTo(v6Sent + newSent);
            }
            assertThat(count(st, "SELECT count(*) FROM rollup_dests WHERE raddr LIKE '2606:%'")).isEqualTo(
                    count(st, "SELECT count(DISTINCT proto || rport || coalesce(domain, '')) FROM flows WHERE raddr = '"
                            + SHORT + "'"));
            // IPv4 addresses and values that are not addresses pass unchanged.
            assertThat(count(st, "SELECT count(*) FROM dests WHERE raddr = '93.184.216.34'")).isPositive();
        }
    }

    private static long count(Statement st, String sql) throws Exception {
        try (ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}

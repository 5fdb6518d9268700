package io.peekd.store;

import static io.peekd.store.Rows.T0;
import static io.peekd.store.Rows.curl;
import static io.peekd.store.Rows.tcp;
import static io.peekd.store.Rows.wget;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;

class RowJsonTest {

    /** Copied by hand from the contract, not from RowJson.FIELDS, so that a rename fails here. */
    private static final List<String> CONTRACT = List.of("time", "exe", "name", "cmdline", "sha256", "pid", "pexe",
            "pname", "pcmdline", "psha256", "uid", "user", "container", "proto", "family", "laddr", "lport",
            "raddr", "rport", "domain", "domain_source", "domain_confidence", "sent", "recv", "conns");

    /** Fields added after the contract was written: allowed, appended after it, never renaming one. */
    private static final List<String> ADDED = List.of("domain_status", "country", "asn", "as_org", "script",
            "script_sha256", "flags");

    private static final List<String> ALL = java.util.stream.Stream.concat(CONTRACT.stream(), ADDED.stream()).toList();

    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private static List<String> names(JsonNode row) {
        List<String> names = new ArrayList<>();
        row.fieldNames().forEachRemaining(names::add);
        return names;
    }

    @Test
    void storedRowsComeOutWithExactlyTheContractFieldsAndValues() throws Exception {
        Identity unknownParent = new Identity("/usr/sbin/ntpd", "ntpd", null, "error: permission denied", 55,
                null, null, null, null, 0, 0, null, null, null);
        FlowRow icmp = new FlowRow(T0.plusSeconds(5), unknownParent, "icmp", 4, "", 0, "", 0,
                null, null, null, 64, 0, 0);
        List<FlowRow> stored;
        try (Store s = Store.open(dir.resolve("peekd.db"))) {
            assertThat(s.writer().submit(List.of(tcp(T0, wget(8), 6000, 3, 4, 1), icmp))).isTrue();
            assertThat(s.writer().flush(Duration.ofSeconds(60))).isTrue();
            try (Reader r = s.reader()) {
                stored = r.query(Query.all());
            }
        }
        JsonNode array = JSON.readTree(RowJson.toJson(stored));
        assertThat(array.isArray()).isTrue();
        assertThat(array).hasSize(2);
        for (JsonNode row : array) {
            assertThat(names(row)).containsExactlyElementsOf(ALL);
        }
        JsonNode w = array.get(0);
        assertThat(w.get("time").textValue()).isEqualTo("2026-11-22T10:00:00Z");
        assertThat(w.get("exe").textValue()).isEqualTo("/usr/bin/wget");
        assertThat(w.get("name").textValue()).isEqualTo("wget");
        assertThat(w.get("cmdline").textValue()).isEqualTo("wget -q x");
        assertThat(w.get("sha256").textValue()).isEqualTo("cc".repeat(32));
        assertThat(w.get("pid").intValue()).isEqualTo(8);
        assertThat(w.get("pexe").textValue()).isEqualTo("/usr/bin/bash");
        assertThat(w.get("pname").textValue()).isEqualTo("bash");
        assertThat(w.get("pcmdline").textValue()).isEqualTo("-bash");
        assertThat(w.get("psha256").textValue()).isEqualTo("bb".repeat(32));
        assertThat(w.get("uid").intValue()).isZero();
        assertThat(w.get("user").textValue()).isEqualTo("root");
        assertThat(w.get("container").textValue()).isEqualTo("web");
        assertThat(w.get("proto").textValue()).isEqualTo("tcp");
        assertThat(w.get("family").intValue()).isEqualTo(4);
        assertThat(w.get("laddr").textValue()).isEqualTo("10.0.0.1");
        assertThat(w.get("lport").intValue()).isEqualTo(6000);
        assertThat(w.get("raddr").textValue()).isEqualTo("93.184.216.34");
        assertThat(w.get("rport").intValue()).isEqualTo(443);
        assertThat(w.get("domain").textValue()).isEqualTo("example.org");
        assertThat(w.get("domain_source").textValue()).isEqualTo("dns");
        assertThat(w.get("domain_confidence").textValue()).isEqualTo("high");
        assertThat(w.get("sent").longValue()).isEqualTo(3);
        assertThat(w.get("recv").longValue()).isEqualTo(4);
        assertThat(w.get("conns").longValue()).isEqualTo(1);

        JsonNode i = array.get(1);
        assertThat(i.get("time").textValue()).isEqualTo("2026-11-22T10:00:05Z");
        assertThat(i.get("sha256").textValue()).isEqualTo("error: permission denied");
        for (String f : List.of("cmdline", "pexe", "pname", "pcmdline", "psha256", "user", "container",
                "domain", "domain_source", "domain_confidence")) {
            assertThat(i.get(f).isNull()).as(f).isTrue();
        }
        assertThat(i.get("laddr").textValue()).isEmpty();
        assertThat(i.get("family").intValue()).isEqualTo(4);
    }

    @Test
    void bigCountersFractionalTimesAndOddTextSurvive() throws Exception {
        Identity odd = new Identity("/tmp/a \"quoted\" name\n", "ünï😀", "x\u0000y", null, 1, null, null, null, null,
                0, 65534, "nobody", null, null);
        FlowRow r = new FlowRow(T0.plusMillis(1500), odd, "udp", 6, "::1", 53, "::1", 5353, null, null, null,
                Long.MAX_VALUE, 1L << 40, 0);
        JsonNode row = JSON.readTree(RowJson.toJson(List.of(r))).get(0);
        assertThat(row.get("time").textValue()).isEqualTo("2026-11-22T10:00:01Z");
        assertThat(row.get("exe").textValue()).isEqualTo("/tmp/a \"quoted\" name\n");
        assertThat(row.get("name").textValue()).isEqualTo("ünï😀");
        assertThat(row.get("cmdline").textValue()).isEqualTo("x\u0000y");
        assertThat(row.get("sent").longValue()).isEqualTo(Long.MAX_VALUE);
        assertThat(row.get("recv").longValue()).isEqualTo(1L << 40);
        assertThat(RowJson.toJson(List.of())).isEqualTo("[]");
    }

    @Test
    void totalsHaveTheirOwnStableNames() throws Exception {
        JsonNode t = JSON.readTree(RowJson.totalsToJson(List.of(new Totals("/usr/bin/curl", "curl", 5, 7, 1))))
                .get(0);
        assertThat(names(t)).containsExactly("exe", "name", "sent", "recv", "conns", "total");
        assertThat(t.get("total").longValue()).isEqualTo(12);
        assertThat(RowJson.FIELDS).isEqualTo(ALL);
        assertThat(RowJson.toJson(List.of(tcp(T0, curl(1), 1, 1, 1, 1)))).startsWith("[{\"time\":\"2026-11-22T10:00:00Z\"");
    }
}

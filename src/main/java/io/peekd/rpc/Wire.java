package io.peekd.rpc;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.Query;
import io.peekd.store.Report;
import io.peekd.store.Totals;
import io.peekd.store.Where;

/**
 * The socket protocol: one JSON object per request ({@code {"op": ..., ...}}) and one per
 * answer ({@code {"ok": true, ...}} or {@code {"ok": false, "error": ...}}). Times are
 * ISO-8601 UTC. Rows use the field names of {@code peekd query --json}.
 */
final class Wire {

    static final ObjectMapper JSON = new ObjectMapper();
    static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** The longest request accepted; a query or report needs a few hundred bytes. */
    static final int MAX_REQUEST = 64 * 1024;

    private Wire() {
    }

    static ObjectNode query(Query q, boolean sumBytes) {
        ObjectNode n = NODES.objectNode().put("op", "query");
        time(n, "since", q.since());
        time(n, "until", q.until());
        n.put("name", q.name()).put("exe", q.exe()).put("limit", q.limit()).put("sum_bytes", sumBytes);
        return n;
    }

    static Query query(JsonNode n) {
        return new Query(time(n, "since"), time(n, "until"), text(n, "name"), text(n, "exe"), n.path("limit").asInt(0));
    }

    static ObjectNode report(Report.Spec s) {
        ObjectNode n = NODES.objectNode().put("op", "report");
        time(n, "from", s.from());
        time(n, "to", s.to());
        ArrayNode by = n.putArray("by");
        s.by().forEach(d -> by.add(d.key()));
        Report.Filters f = s.filters();
        n.putObject("filters").put("exe", f.exe()).put("name", f.name()).put("domain", f.domain())
                .put("user", f.user()).put("container", f.container());
        n.put("where", s.where() == null ? null : s.where().text());
        n.put("top", s.top());
        return n;
    }

    /** The caller's spec; who it is restricted to is decided by the server, never read from the request. */
    static Report.Spec report(JsonNode n) {
        List<Report.Dim> by = new ArrayList<>();
        for (JsonNode d : n.path("by")) {
            by.add(Report.Dim.parse(d.asText()));
        }
        JsonNode f = n.path("filters");
        String where = text(n, "where");
        Instant from = time(n, "from"), to = time(n, "to");
        if (from == null || to == null) {
            throw new IllegalArgumentException("a report needs \"from\" and \"to\"");
        }
        return new Report.Spec(from, to, by,
                new Report.Filters(text(f, "exe"), text(f, "name"), text(f, "domain"), text(f, "user"), text(f, "container")),
                where == null ? null : Where.parse(where), n.path("top").asInt(0), OptionalInt.empty());
    }

    static ObjectNode result(Report.Result r) {
        ObjectNode n = NODES.objectNode();
        ArrayNode by = n.putArray("by");
        r.by().forEach(d -> by.add(d.key()));
        ArrayNode rows = n.putArray("rows");
        r.rows().forEach(row -> rows.add(row(row)));
        n.put("groups", r.groups());
        n.set("totals", row(r.totals()));
        time(n, "from", r.from());
        time(n, "to", r.to());
        ArrayNode sources = n.putArray("sources");
        for (Report.Source s : r.sources()) {
            ObjectNode o = sources.addObject().put("table", s.table());
            time(o, "from", s.from());
            time(o, "to", s.to());
        }
        ArrayNode notes = n.putArray("notes");
        r.notes().forEach(notes::add);
        return n;
    }

    static Report.Result result(JsonNode n) {
        List<Report.Dim> by = new ArrayList<>();
        n.path("by").forEach(d -> by.add(Report.Dim.parse(d.asText())));
        List<Report.Row> rows = new ArrayList<>();
        n.path("rows").forEach(r -> rows.add(row(r)));
        List<Report.Source> sources = new ArrayList<>();
        n.path("sources").forEach(s -> sources.add(new Report.Source(s.path("table").asText(), time(s, "from"), time(s, "to"))));
        List<String> notes = new ArrayList<>();
        n.path("notes").forEach(x -> notes.add(x.asText()));
        return new Report.Result(by, rows, n.path("groups").asLong(), row(n.path("totals")), time(n, "from"),
                time(n, "to"), sources, notes);
    }

    private static ObjectNode row(Report.Row r) {
        ObjectNode o = NODES.objectNode();
        ArrayNode keys = o.putArray("keys");
        for (Object k : r.keys()) {
            switch (k) {
                case null -> keys.addNull();
                case Long l -> keys.add(l);
                default -> keys.add(k.toString());
            }
        }
        return o.put("sent", r.sent()).put("recv", r.recv()).put("conns", r.conns());
    }

    private static Report.Row row(JsonNode n) {
        List<Object> keys = new ArrayList<>();
        for (JsonNode k : n.path("keys")) {
            keys.add(k.isNull() ? null : k.isIntegralNumber() ? (Object) k.asLong() : k.asText());
        }
        return new Report.Row(keys, n.path("sent").asLong(), n.path("recv").asLong(), n.path("conns").asLong());
    }

    /** A row as {@code peekd query --json} prints it, back into a FlowRow (ppid and cgroup are not in the contract). */
    static FlowRow flowRow(JsonNode n) {
        Identity id = new Identity(text(n, "exe"), text(n, "name"), text(n, "cmdline"), text(n, "sha256"),
                n.path("pid").asInt(), text(n, "pexe"), text(n, "pname"), text(n, "pcmdline"), text(n, "psha256"),
                0, n.path("uid").asInt(), text(n, "user"), null, text(n, "container"), text(n, "script"),
                text(n, "script_sha256"));
        int flags = 0;
        for (JsonNode f : n.path("flags")) {
            for (io.peekd.flow.Flag x : io.peekd.flow.Flag.values()) if (x.name().equals(f.asText())) flags |= x.bit;
        }
        // Every field of the contract travels, the later additions included.
        return new FlowRow(time(n, "time"), id, text(n, "proto"), n.path("family").asInt(), text(n, "laddr"),
                n.path("lport").asInt(), text(n, "raddr"), n.path("rport").asInt(), text(n, "domain"),
                text(n, "domain_source"), text(n, "domain_confidence"), n.path("sent").asLong(), n.path("recv").asLong(),
                n.path("conns").asLong(), text(n, "domain_status"), text(n, "country"),
                n.path("asn").isIntegralNumber() ? n.path("asn").asLong() : null, text(n, "as_org"), flags);
    }

    static Totals totals(JsonNode n) {
        return new Totals(text(n, "exe"), text(n, "name"), n.path("sent").asLong(), n.path("recv").asLong(),
                n.path("conns").asLong());
    }

    static String text(JsonNode n, String field) {
        JsonNode v = n.get(field);
        return v == null || v.isNull() ? null : v.asText();
    }

    static Instant time(JsonNode n, String field) {
        String t = text(n, field);
        if (t == null) {
            return null;
        }
        try {
            return Instant.parse(t);
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("\"" + field + "\" is not an ISO-8601 UTC time: " + t);
        }
    }

    private static void time(ObjectNode n, String field, Instant t) {
        n.put(field, t == null ? null : t.toString());
    }
}

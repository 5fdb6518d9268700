package io.peekd.store;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;

import io.peekd.flow.Flag;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;

/**
 * Rows as the JSON array of {@code peekd query --json}. Scripts depend on these names:
 * fields may be added, never renamed. Every field is always present, null when unknown.
 * Written field by field with a streaming generator so that the names live here, in the
 * contract's order, and not in reflection over record components.
 */
public final class RowJson {

    /** The stable field names of one row, in output order. */
    public static final List<String> FIELDS = List.of("time", "exe", "name", "cmdline", "sha256", "pid",
            "pexe", "pname", "pcmdline", "psha256", "uid", "user", "container", "proto", "family", "laddr",
            "lport", "raddr", "rport", "domain", "domain_source", "domain_confidence", "sent", "recv", "conns",
            "domain_status", "country", "asn", "as_org", "script", "script_sha256", "flags");

    /** Field names of {@code peekd query --sum-bytes --json}. */
    public static final List<String> TOTALS_FIELDS = List.of("exe", "name", "sent", "recv", "conns", "total");

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .disable(StreamWriteFeature.AUTO_CLOSE_TARGET)
            .build();

    private RowJson() {
    }

    /** Writes the array to {@code out} as UTF-8 and flushes; {@code out} stays open. */
    public static void write(List<FlowRow> rows, OutputStream out) throws IOException {
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartArray();
            for (FlowRow r : rows) {
                writeRow(g, r);
            }
            g.writeEndArray();
        }
    }

    public static String toJson(List<FlowRow> rows) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            write(rows, buf);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    /** One row as a JSON object with the same fields as an element of {@link #write}. */
    public static String toJson(FlowRow row) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (JsonGenerator g = FACTORY.createGenerator(buf)) {
            writeRow(g, row);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    public static void writeTotals(List<Totals> totals, OutputStream out) throws IOException {
        try (JsonGenerator g = FACTORY.createGenerator(out)) {
            g.writeStartArray();
            for (Totals t : totals) {
                g.writeStartObject();
                g.writeStringField("exe", t.exe());
                g.writeStringField("name", t.name());
                g.writeNumberField("sent", t.sent());
                g.writeNumberField("recv", t.recv());
                g.writeNumberField("conns", t.conns());
                g.writeNumberField("total", t.total());
                g.writeEndObject();
            }
            g.writeEndArray();
        }
    }

    public static String totalsToJson(List<Totals> totals) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try {
            writeTotals(totals, buf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    /** {@code 2026-11-22T10:00:00Z}: windows start on whole seconds, so no fraction is shown. */
    static String time(Instant t) {
        return t == null ? null : DateTimeFormatter.ISO_INSTANT.format(t.truncatedTo(ChronoUnit.SECONDS));
    }

    private static void writeRow(JsonGenerator g, FlowRow r) throws IOException {
        Identity id = r.id();
        boolean known = id != null;
        g.writeStartObject();
        g.writeStringField("time", time(r.time()));
        g.writeStringField("exe", known ? id.exe() : null);
        g.writeStringField("name", known ? id.name() : null);
        g.writeStringField("cmdline", known ? id.cmdline() : null);
        g.writeStringField("sha256", known ? id.sha256() : null);
        number(g, "pid", known ? id.pid() : null);
        g.writeStringField("pexe", known ? id.pexe() : null);
        g.writeStringField("pname", known ? id.pname() : null);
        g.writeStringField("pcmdline", known ? id.pcmdline() : null);
        g.writeStringField("psha256", known ? id.psha256() : null);
        number(g, "uid", known ? id.uid() : null);
        g.writeStringField("user", known ? id.user() : null);
        g.writeStringField("container", known ? id.container() : null);
        g.writeStringField("proto", r.proto());
        g.writeNumberField("family", r.family());
        g.writeStringField("laddr", r.laddr());
        g.writeNumberField("lport", r.lport());
        g.writeStringField("raddr", r.raddr());
        g.writeNumberField("rport", r.rport());
        g.writeStringField("domain", r.domain());
        g.writeStringField("domain_source", r.domainSource());
        g.writeStringField("domain_confidence", r.domainConfidence());
        g.writeNumberField("sent", r.sent());
        g.writeNumberField("recv", r.recv());
        g.writeNumberField("conns", r.conns());
        g.writeStringField("domain_status", r.domainStatus());
        g.writeStringField("country", r.country());
        if (r.asn() == null) g.writeNullField("asn");
        else g.writeNumberField("asn", r.asn());
        g.writeStringField("as_org", r.asOrg());
        g.writeStringField("script", known ? id.script() : null);
        g.writeStringField("script_sha256", known ? id.scriptSha256() : null);
        g.writeArrayFieldStart("flags");
        for (String f : Flag.names(r.flags())) g.writeString(f);
        g.writeEndArray();
        g.writeEndObject();
    }

    private static void number(JsonGenerator g, String field, Integer v) throws IOException {
        if (v == null) {
            g.writeNullField(field);
        } else {
            g.writeNumberField(field, v);
        }
    }
}

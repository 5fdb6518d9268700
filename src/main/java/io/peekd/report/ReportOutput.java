package io.peekd.report;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.Writer;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.dataformat.csv.CsvFactory;
import com.fasterxml.jackson.dataformat.csv.CsvGenerator;
import com.fasterxml.jackson.dataformat.csv.CsvSchema;

import io.peekd.store.Report;

/**
 * A report as people read it (an aligned table that fits the terminal) or as scripts read it
 * (JSON array, CSV). Field names in JSON and CSV are the dimension names followed by
 * {@code sent}, {@code recv}, {@code total} and {@code conns}; they are a contract.
 */
public final class ReportOutput {

    private static final JsonFactory JSON = JsonFactory.builder().disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();
    private static final CsvFactory CSV = CsvFactory.builder().disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();
    private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    private static final List<String> COUNTERS = List.of("sent", "recv", "total", "conns");
    private static final int MIN_COLUMN = 8;

    private ReportOutput() {
    }

    /** The JSON array of {@code peekd report --json}. */
    public static void json(Report.Result r, Writer out) throws IOException {
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartArray();
            for (Report.Row row : r.rows()) {
                g.writeStartObject();
                for (int i = 0; i < r.by().size(); i++) {
                    Object v = row.keys().get(i);
                    String f = r.by().get(i).key();
                    switch (v) {
                        case null -> g.writeNullField(f);
                        case Long l -> g.writeNumberField(f, l);
                        default -> g.writeStringField(f, v.toString());
                    }
                }
                g.writeNumberField("sent", row.sent());
                g.writeNumberField("recv", row.recv());
                g.writeNumberField("total", row.total());
                g.writeNumberField("conns", row.conns());
                g.writeEndObject();
            }
            g.writeEndArray();
        }
        out.write('\n');
    }

    /** RFC 4180 CSV with a header line; unknown values are empty fields. */
    public static void csv(Report.Result r, Writer out) throws IOException {
        CsvSchema.Builder schema = CsvSchema.builder().setUseHeader(true);
        for (Report.Dim d : r.by()) {
            schema.addColumn(d.key());
        }
        COUNTERS.forEach(schema::addColumn);
        try (CsvGenerator g = CSV.createGenerator(out)) {
            g.setSchema(schema.build());
            for (Report.Row row : r.rows()) {
                g.writeStartArray();
                for (Object v : row.keys()) {
                    if (v == null) {
                        g.writeString("");
                    } else {
                        g.writeString(v.toString());
                    }
                }
                g.writeNumber(row.sent());
                g.writeNumber(row.recv());
                g.writeNumber(row.total());
                g.writeNumber(row.conns());
                g.writeEndArray();
            }
        }
    }

    /**
     * The human report: a title with the range in local time (zone named), the table, a
     * total line and where the numbers came from.
     *
     * @param width columns available; 0 means no limit
     */
    public static void table(Report.Result r, ByteUnits units, ZoneId zone, int width, Writer w) {
        PrintWriter out = new PrintWriter(w);
        List<String> by = r.by().stream().map(Report.Dim::key).toList();
        out.println("Traffic by " + String.join(", ", by) + ", " + local(r.from(), zone) + " to " + local(r.to(), zone)
                + " (" + zoneLabel(zone, r.to()) + ")");
        List<String> header = new ArrayList<>();
        by.forEach(b -> header.add(b.toUpperCase(Locale.ROOT)));
        header.addAll(List.of("SENT", "RECV", "TOTAL", "CONNS"));
        List<String[]> cells = new ArrayList<>();
        for (Report.Row row : r.rows()) {
            cells.add(cells(row, units, true));
        }
        String[] total = cells(r.totals(), units, false);
        total[0] = "TOTAL";
        for (int i = 1; i < by.size(); i++) {
            total[i] = "";
        }
        int n = header.size();
        int[] natural = new int[n];
        for (int i = 0; i < n; i++) {
            natural[i] = header.get(i).length();
            for (String[] c : cells) {
                natural[i] = Math.max(natural[i], c[i].length());
            }
            natural[i] = Math.max(natural[i], total[i].length());
        }
        int[] fit = fit(natural, by.size(), width);
        if (r.rows().isEmpty()) {
            out.println("(no traffic in this range)");
        } else {
            line(out, header.toArray(String[]::new), fit, r.by());
            for (String[] c : cells) {
                line(out, c, fit, r.by());
            }
            line(out, total, fit, r.by());
            out.println(r.groups() + (r.groups() == 1 ? " group" : " groups")
                    + (r.rows().size() < r.groups() ? ", the largest " + r.rows().size() + " shown (--top)" : ""));
        }
        if (!r.sources().isEmpty()) {
            List<String> parts = new ArrayList<>();
            for (Report.Source s : r.sources()) {
                parts.add(human(s.length()) + " " + switch (s.table()) {
                    case "flows" -> "raw windows";
                    case "rollup_minute" -> "minute rollups";
                    case "rollup_hour" -> "hour rollups";
                    case "rollup_day" -> "day rollups";
                    case "rollup_week_domain" -> "week rollups";
                    default -> s.table();
                });
            }
            out.println("read from: " + String.join(", ", parts));
        }
        for (String note : r.notes()) {
            out.println("note: " + note);
        }
        out.flush();
    }

    public static String table(Report.Result r, ByteUnits units, ZoneId zone, int width) {
        StringWriter sw = new StringWriter();
        table(r, units, zone, width, sw);
        return sw.toString();
    }

    private static String[] cells(Report.Row row, ByteUnits units, boolean keys) {
        int k = row.keys().size();
        String[] c = new String[k + 4];
        for (int i = 0; i < k; i++) {
            Object v = row.keys().get(i);
            c[i] = keys ? printable(v == null ? "-" : v.toString()) : "";
        }
        c[k] = units.format(row.sent());
        c[k + 1] = units.format(row.recv());
        c[k + 2] = units.format(row.total());
        c[k + 3] = Long.toString(row.conns());
        return c;
    }

    /** A process name or domain may carry escape codes; never send them to the terminal. */
    static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(cp -> {
            if (Character.isISOControl(cp) || Character.getType(cp) == Character.FORMAT) {
                sb.append('?');
            } else {
                sb.appendCodePoint(cp);
            }
        });
        return sb.toString();
    }

    /**
     * Widths that fit {@code width}: the counters keep theirs, and the text columns give up
     * room in proportion to their size, never below {@link #MIN_COLUMN}.
     */
    static int[] fit(int[] natural, int textColumns, int width) {
        int[] w = natural.clone();
        if (width <= 0) {
            return w;
        }
        int gaps = 2 * (w.length - 1);
        int fixed = gaps;
        for (int i = textColumns; i < w.length; i++) {
            fixed += w[i];
        }
        int budget = Math.max(textColumns * MIN_COLUMN, width - fixed);
        int text = 0;
        for (int i = 0; i < textColumns; i++) {
            text += w[i];
        }
        while (text > budget) {
            // Take one column from the widest text column, until it fits or all are at the minimum.
            int widest = -1;
            for (int i = 0; i < textColumns; i++) {
                if (w[i] > MIN_COLUMN && (widest < 0 || w[i] > w[widest])) {
                    widest = i;
                }
            }
            if (widest < 0) {
                break;
            }
            w[widest]--;
            text--;
        }
        return w;
    }

    private static void line(PrintWriter out, String[] cells, int[] w, List<Report.Dim> by) {
        StringBuilder sb = new StringBuilder();
        int k = by.size();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) {
                sb.append("  ");
            }
            boolean number = i >= k || by.get(i).numeric();
            String c = i < k ? cut(cells[i], w[i], by.get(i)) : cells[i];
            if (number) {
                sb.append(" ".repeat(Math.max(0, w[i] - c.length()))).append(c);
            } else {
                sb.append(c);
                if (i < cells.length - 1) {
                    sb.append(" ".repeat(Math.max(0, w[i] - c.length())));
                }
            }
        }
        out.println(sb.toString().stripTrailing());
    }

    /**
     * Shortens a cell to {@code w} characters. Paths and domains keep their end, where the
     * program's file name and the registrable domain are; other values keep their start.
     */
    static String cut(String s, int w, Report.Dim dim) {
        if (s.length() <= w) {
            return s;
        }
        boolean keepEnd = dim == Report.Dim.EXE || dim == Report.Dim.PARENT || dim == Report.Dim.DOMAIN;
        return keepEnd ? "…" + s.substring(s.length() - (w - 1)) : s.substring(0, w - 1) + "…";
    }

    static String local(Instant t, ZoneId zone) {
        return LOCAL.format(ZonedDateTime.ofInstant(t, zone));
    }

    /** "Europe/Berlin, UTC+01:00": the zone and its offset at that time, so the reader can convert. */
    static String zoneLabel(ZoneId zone, Instant at) {
        String offset = zone.getRules().getOffset(at).getId();
        return zone.getId() + ", UTC" + ("Z".equals(offset) ? "+00:00" : offset);
    }

    static String human(Duration d) {
        long s = d.toSeconds();
        if (s % 86_400 == 0 && s > 0) {
            return s / 86_400 + "d";
        }
        if (s >= 86_400) {
            return s / 86_400 + "d " + s % 86_400 / 3_600 + "h";
        }
        if (s % 3_600 == 0 && s > 0) {
            return s / 3_600 + "h";
        }
        if (s >= 3_600) {
            return s / 3_600 + "h " + s % 3_600 / 60 + "m";
        }
        if (s >= 60) {
            return s / 60 + "m" + (s % 60 == 0 ? "" : " " + s % 60 + "s");
        }
        return s + "s";
    }
}

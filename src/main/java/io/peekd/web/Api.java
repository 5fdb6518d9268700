package io.peekd.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import io.peekd.flow.FlowRow;
import io.peekd.store.RowJson;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Supplier;

/** The JSON (and CSV) API; each view of the page is one of these calls. See docs/web.md. */
final class Api {
    private static final int MAX_LIMIT = 100_000;

    private final ObjectMapper json;
    private final Views views;
    private final WebOptions opts;
    private final Geo geo;
    private final Live live;
    private final Guard guard;
    private final Supplier<Alerts> alerts;
    /** Null when reverse DNS is off. */
    private final Hostnames hostnames;

    Api(ObjectMapper json, Views views, WebOptions opts, Geo geo, Live live, Guard guard, Supplier<Alerts> alerts,
        Hostnames hostnames) {
        this.hostnames = hostnames;
        this.json = json;
        this.views = views;
        this.opts = opts;
        this.geo = geo;
        this.live = live;
        this.guard = guard;
        this.alerts = alerts;
    }

    private static Set<String> with(Set<String> base, String... more) {
        Set<String> s = new HashSet<>(base);
        s.addAll(List.of(more));
        return s;
    }

    private static final Set<String> SUMMARY = Filter.PARAMS;
    private static final Set<String> GROUPS = with(Filter.PARAMS, "by", "order", "limit");
    private static final Set<String> FLOWS = with(Filter.PARAMS, "limit", "offset");
    private static final Set<String> SERIES = with(Filter.PARAMS, "by", "bucket", "series");
    private static final Set<String> LIMITED = with(Filter.PARAMS, "limit");
    private static final Set<String> EXPORT = with(Filter.PARAMS, "by", "order", "limit");
    private static final Set<String> NONE = Set.of();

    void handle(HttpExchange ex, String path) throws IOException {
        Params p = Params.of(ex.getRequestURI());
        if (path.equals("/api/ignore") && "POST".equals(ex.getRequestMethod())) {
            ignoreChange(ex);
            return;
        }
        if (!"GET".equals(ex.getRequestMethod()) && !"HEAD".equals(ex.getRequestMethod())) {
            ex.getResponseHeaders().set("Allow", path.equals("/api/ignore") ? "GET, HEAD, POST" : "GET, HEAD");
            error(ex, 405, ex.getRequestMethod() + " is not allowed here");
            return;
        }
        if ("HEAD".equals(ex.getRequestMethod()) && (path.equals("/api/export") || path.equals("/api/live"))) {
            // Streams: a HEAD answers with the type and nothing else, without running the query.
            Web.send(ex, 200, path.equals("/api/live") ? "text/event-stream; charset=utf-8" : "text/csv; charset=utf-8",
                    new byte[0]);
            return;
        }
        Instant now = Instant.now();
        switch (path) {
            case "/api/meta" -> {
                p.allowOnly(NONE);
                send(ex, meta());
            }
            case "/api/summary" -> {
                p.allowOnly(SUMMARY);
                send(ex, views.summary(filter(p, now)));
            }
            case "/api/groups" -> {
                p.allowOnly(GROUPS);
                Filter f = filter(p, now);
                List<Dim> by = by(p, true);
                List<Views.Group> groups = views.groups(f, by, order(p), limit(p));
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("from", f.from());
                out.put("to", f.to());
                out.put("by", by.stream().map(Dim::key).toList());
                out.put("groups", groups);
                if (by.contains(Dim.RADDR)) out.put("countries", countries(groups.stream()
                        .map(g -> (String) g.key().get("raddr")).toList()));
                send(ex, out);
            }
            case "/api/flows" -> {
                p.allowOnly(FLOWS);
                Filter f = filter(p, now);
                List<FlowRow> rows = views.rows(f, limit(p), p.integer("offset", 0, 0, 10_000_000));
                String countries = json.writeValueAsString(countries(rows.stream().map(FlowRow::raddr).toList()));
                String body = "{\"from\":" + f.from() + ",\"to\":" + f.to() + ",\"rows\":" + RowJson.toJson(rows)
                        + ",\"countries\":" + countries + ",\"kept_from\":" + views.keptFrom(f) + "}";
                Web.send(ex, 200, "application/json; charset=utf-8", body.getBytes(StandardCharsets.UTF_8));
            }
            case "/api/timeseries" -> {
                p.allowOnly(SERIES);
                Filter f = filter(p, now);
                List<Dim> by = by(p, false);
                if (by.size() > 1) throw new BadRequest("by: the time series takes one dimension");
                send(ex, views.timeseries(f, by.isEmpty() ? null : by.getFirst(), bucket(p, f),
                        p.integer("series", 8, 1, 30), opts.zone()));
            }
            case "/api/processes" -> {
                p.allowOnly(LIMITED);
                Filter f = filter(p, now);
                send(ex, Map.of("from", f.from(), "to", f.to(), "tree", views.processes(f, limit(p))));
            }
            case "/api/destinations" -> {
                p.allowOnly(LIMITED);
                Filter f = filter(p, now);
                List<Views.Destination> d = views.destinations(f, limit(p),
                        p.integer("processes", Views.PROCESSES_PER_DESTINATION, 0, 1000));
                send(ex, Map.of("from", f.from(), "to", f.to(), "destinations", d,
                        "countries", countries(d.stream().map(Views.Destination::raddr).toList())));
            }
            case "/api/alerts" -> {
                p.allowOnly(LIMITED);
                Filter f = filter(p, now);
                Alerts a = alerts.get();
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("available", a != null);
                out.put("alerts", a == null ? List.of() : a.recent(f.from(), f.to(), limit(p)));
                if (a == null) out.put("note", "alert rules are not running in this process");
                send(ex, out);
            }
            case "/api/ignore" -> {
                p.allowOnly(NONE);
                send(ex, ignoreState(null));
            }
            case "/api/export" -> {
                p.allowOnly(EXPORT);
                export(ex, p, now);
            }
            case "/api/hostnames" -> {
                p.allowOnly(Set.of("addr"));
                List<java.net.InetAddress> addrs = Hostnames.parse(p.all("addr"));
                Map<String, Object> out = new LinkedHashMap<>();
                out.put("enabled", hostnames != null);
                out.put("names", hostnames == null ? Map.of() : hostnames.names(addrs));
                send(ex, out);
            }
            case "/api/live" -> {
                p.allowOnly(NONE);
                live.open(ex);
            }
            default -> error(ex, 404, "no such API: " + path + " (see docs/web.md)");
        }
    }

    private Map<String, Object> meta() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", io.peekd.cli.Main.class.getPackage().getImplementationVersion());
        m.put("zone", opts.zone().getId());
        m.put("now", Instant.now().getEpochSecond());
        m.put("refresh_seconds", opts.refreshSeconds());
        m.put("default_since", io.peekd.config.Durations.format(opts.defaultSince()));
        m.put("default_since_seconds", opts.defaultSince().toSeconds());
        m.put("top_limit", opts.topLimit());
        m.put("dimensions", java.util.Arrays.stream(Dim.values()).map(Dim::key).toList());
        m.put("live", live.mode());
        m.put("geoip", geo.available());
        m.put("reverse_dns", hostnames != null);
        m.put("database", opts.db().toString());
        m.put("database_exists", views.exists());
        m.put("ignore_file", opts.ignore().path().toString());
        m.put("csrf", guard.csrf());
        return m;
    }

    private Filter filter(Params p, Instant now) {
        return Filter.parse(p, opts.defaultSince(), now);
    }

    private static List<Dim> by(Params p, boolean required) {
        String v = p.one("by");
        if (v == null || v.isBlank()) {
            if (required) throw new BadRequest("by: name one to three dimensions, comma-separated: " + Dim.NAMES);
            return List.of();
        }
        List<Dim> out = new ArrayList<>();
        for (String s : v.split(",")) {
            Dim d = Dim.parseAlias(s, "by");
            if (!out.contains(d)) out.add(d);
        }
        if (out.size() > 3) throw new BadRequest("by: at most three dimensions");
        return out;
    }

    private static Views.Order order(Params p) {
        String v = p.one("order");
        if (v == null || v.isEmpty()) return Views.Order.TOTAL;
        try {
            return Views.Order.valueOf(v.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadRequest("order: expected total, sent, recv, conns or time, got \"" + v + "\"");
        }
    }

    private int limit(Params p) {
        return p.integer("limit", opts.topLimit(), 1, MAX_LIMIT);
    }

    private static long bucket(Params p, Filter f) {
        String v = p.one("bucket");
        if (v == null || v.isEmpty() || v.equals("auto")) return Views.autoBucket(f.seconds(), 1);
        return switch (v) {
            case "minute" -> 60;
            case "hour" -> 3600;
            case "day" -> 86400;
            default -> p.integer("bucket", 0, 1, 31_536_000);
        };
    }

    private Map<String, String> countries(List<String> addrs) {
        Map<String, String> out = new TreeMap<>();
        if (!geo.available()) return out;
        for (String a : addrs) {
            String c = geo.country(a);
            if (c != null) out.put(a, c);
        }
        return out;
    }

    private Map<String, Object> ignoreState(IgnoreFile.Lists lists) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("file", opts.ignore().path().toString());
        try {
            IgnoreFile.Lists l = lists != null ? lists : opts.ignore().read();
            m.put("ports", l.ports());
            m.put("domains", l.domains());
            m.put("ips", l.ips());
            m.put("sha256", l.sha256());
            m.put("error", null);
        } catch (IgnoreFile.Invalid e) {
            m.put("error", e.getMessage());
        }
        return m;
    }

    /** {@code POST /api/ignore} with {@code {"op": "add"|"remove", "kind": ..., "value": ...}}. */
    private void ignoreChange(HttpExchange ex) throws IOException {
        Guard.Denial d = guard.checkWrite(ex);
        if (d != null) {
            error(ex, d.status(), d.message());
            return;
        }
        JsonNode body;
        try (InputStream in = ex.getRequestBody()) {
            byte[] b = in.readNBytes(65_537);
            if (b.length > 65_536) throw new BadRequest("body larger than 64 KiB");
            body = json.readTree(b);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new BadRequest("body is not JSON: " + e.getOriginalMessage());
        }
        if (body == null || !body.isObject()) throw new BadRequest("body must be a JSON object");
        String op = text(body, "op"), kind = text(body, "kind"), value = text(body, "value");
        IgnoreFile.Kind k = IgnoreFile.Kind.parse(kind);
        IgnoreFile.Lists l;
        try {
            l = switch (op) {
                case "add" -> opts.ignore().add(k, value);
                case "remove" -> opts.ignore().remove(k, value);
                default -> throw new BadRequest("op: expected add or remove, got \"" + op + "\"");
            };
        } catch (IllegalArgumentException e) {
            throw new BadRequest("value: " + e.getMessage());
        } catch (IgnoreFile.Invalid e) {
            // Never overwrite a file we cannot read: the operator's hand edits would be lost.
            error(ex, 409, e.getMessage() + "; fix or remove the file first");
            return;
        }
        send(ex, ignoreState(l));
    }

    private static String text(JsonNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || !(v.isTextual() || v.isIntegralNumber())) throw new BadRequest(field + ": required (a string)");
        return v.asText();
    }

    /** The JSON contract's fields, in its order (country falls back to the dashboard's own lookup). */
    private static final List<String> CSV_FIELDS = RowJson.FIELDS;

    /** CSV of the stored rows (the JSON contract's fields), or of groups with {@code by}; streamed. */
    private void export(HttpExchange ex, Params p, Instant now) throws IOException {
        Filter f = filter(p, now);
        List<Dim> by = by(p, false);
        int limit = p.integer("limit", 0, 0, 10_000_000);
        var h = ex.getResponseHeaders();
        h.set("Content-Type", "text/csv; charset=utf-8");
        h.set("Cache-Control", "no-store");
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").format(now.atZone(opts.zone()));
        h.set("Content-Disposition", "attachment; filename=\"peekd-" + (by.isEmpty() ? "flows" : "by-"
                + String.join("-", by.stream().map(Dim::key).toList())) + "-" + stamp + ".csv\"");
        if (!by.isEmpty()) {
            List<Views.Group> groups = views.groups(f, by, order(p), limit == 0 ? 10_000_000 : limit);
            ex.sendResponseHeaders(200, 0);
            try (Writer w = new BufferedWriter(new OutputStreamWriter(ex.getResponseBody(), StandardCharsets.UTF_8))) {
                List<Object> head = new ArrayList<>(by.stream().map(Dim::key).toList());
                head.addAll(List.of("sent", "recv", "conns", "rows", "first", "last"));
                Csv.row(w, head.toArray());
                for (Views.Group g : groups) {
                    List<Object> cells = new ArrayList<>(g.key().values());
                    cells.addAll(List.of(g.sent(), g.recv(), g.conns(), g.rows(), iso(g.first()), iso(g.last())));
                    Csv.row(w, cells.toArray());
                }
            }
            return;
        }
        List<Object> args = new ArrayList<>();
        String sql = "SELECT " + Db.ROW_COLUMNS + Db.FROM + f.where(args) + " ORDER BY " + io.peekd.store.Reader.rowOrder(false)
                + (limit > 0 ? " LIMIT " + limit : "");
        // Headers go out before the first row, so a failure mid-way can only cut the file short.
        ex.sendResponseHeaders(200, 0);
        try (Writer w = new BufferedWriter(new OutputStreamWriter(ex.getResponseBody(), StandardCharsets.UTF_8), 1 << 16)) {
            Csv.row(w, CSV_FIELDS.toArray());
            views.db().read(c -> {
                try (PreparedStatement ps = Db.prepare(c, sql, args); ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        FlowRow r = Db.row(rs, 1);
                        var id = r.id();
                        Csv.row(w, iso(r.time().getEpochSecond()), id.exe(), id.name(), id.cmdline(), id.sha256(),
                                id.pid(), id.pexe(), id.pname(), id.pcmdline(), id.psha256(), id.uid(), id.user(),
                                id.container(), r.proto(), r.family(), r.laddr(), r.lport(), r.raddr(), r.rport(),
                                r.domain(), r.domainSource(), r.domainConfidence(), r.sent(), r.recv(), r.conns(),
                                r.domainStatus(), r.country() != null ? r.country() : geo.country(r.raddr()), r.asn(),
                                r.asOrg());
                    }
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
                return null;
            });
        } catch (java.io.UncheckedIOException e) {
            // The client went away mid-download; nothing to tell it.
        }
    }

    private static String iso(long epoch) {
        return Instant.ofEpochSecond(epoch).toString();
    }

    private void send(HttpExchange ex, Object body) throws IOException {
        Web.send(ex, 200, "application/json; charset=utf-8", json.writeValueAsBytes(body));
    }

    void error(HttpExchange ex, int status, String message) throws IOException {
        Web.send(ex, status, "application/json; charset=utf-8", json.writeValueAsBytes(Map.of("error", message)));
    }
}

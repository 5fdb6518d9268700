package io.peekd.web;

import com.sun.net.httpserver.HttpExchange;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

/**
 * The page's files, read once from the jar: our own under {@code /static/}, and ECharts from
 * its WebJar under {@code /static/vendor/}. Each is served with its content type, an ETag and
 * a gzip copy. File names in the page carry a content hash ({@code ?v=...}), so browsers may
 * keep them for a year; the page itself is always revalidated.
 */
final class Assets {
    static final String ECHARTS_VERSION = "5.5.0";
    /**
     * ECharts' "common" build: line and bar charts with grid, legend, tooltip and dataZoom,
     * all the page uses, in 661 KB instead of the full build's 1 029 KB. The page loads it
     * after drawing the cards and the table (app.js, loadCharts).
     */
    private static final String ECHARTS = "/META-INF/resources/webjars/echarts/" + ECHARTS_VERSION + "/echarts.common.min.js";

    record Asset(String type, byte[] body, byte[] gzip, String etag, boolean immutable) {
    }

    private final Map<String, Asset> byPath;

    Assets() {
        Asset js = load("/io/peekd/web/static/app.js", "text/javascript; charset=utf-8", true);
        Asset css = load("/io/peekd/web/static/app.css", "text/css; charset=utf-8", true);
        Asset icon = load("/io/peekd/web/static/icon.svg", "image/svg+xml", true);
        Asset charts = load(ECHARTS, "text/javascript; charset=utf-8", true);
        String html = new String(read("/io/peekd/web/static/index.html"), StandardCharsets.UTF_8)
                .replace("{{app.js}}", "/static/app.js?v=" + js.etag())
                .replace("{{app.css}}", "/static/app.css?v=" + css.etag())
                .replace("{{icon.svg}}", "/static/icon.svg?v=" + icon.etag())
                .replace("{{echarts.js}}", "/static/vendor/echarts-" + ECHARTS_VERSION + ".common.min.js");
        Asset page = asset(html.getBytes(StandardCharsets.UTF_8), "text/html; charset=utf-8", false);
        byPath = Map.of("/", page, "/index.html", page, "/static/app.js", js, "/static/app.css", css,
                "/static/icon.svg", icon, "/static/vendor/echarts-" + ECHARTS_VERSION + ".common.min.js", charts);
    }

    boolean has(String path) {
        return byPath.containsKey(path);
    }

    List<String> paths() {
        return List.copyOf(byPath.keySet());
    }

    void serve(HttpExchange ex, String path) throws IOException {
        Asset a = byPath.get(path);
        var h = ex.getResponseHeaders();
        h.set("ETag", '"' + a.etag() + '"');
        h.set("Cache-Control", a.immutable() ? "public, max-age=31536000, immutable" : "no-cache");
        h.set("Vary", "Accept-Encoding");
        String inm = ex.getRequestHeaders().getFirst("If-None-Match");
        if (inm != null && inm.contains('"' + a.etag() + '"')) {
            ex.sendResponseHeaders(304, -1);
            ex.close();
            return;
        }
        String ae = ex.getRequestHeaders().getFirst("Accept-Encoding");
        boolean gz = ae != null && ae.contains("gzip") && a.gzip().length < a.body().length;
        byte[] body = gz ? a.gzip() : a.body();
        h.set("Content-Type", a.type());
        if (gz) h.set("Content-Encoding", "gzip");
        boolean head = "HEAD".equals(ex.getRequestMethod());
        ex.sendResponseHeaders(200, head ? -1 : body.length);
        if (!head) {
            try (OutputStream out = ex.getResponseBody()) {
                out.write(body);
            }
        }
        ex.close();
    }

    private static Asset load(String resource, String type, boolean immutable) {
        return asset(read(resource), type, immutable);
    }

    private static Asset asset(byte[] body, String type, boolean immutable) {
        try {
            ByteArrayOutputStream buf = new ByteArrayOutputStream();
            try (GZIPOutputStream gz = new GZIPOutputStream(buf)) {
                gz.write(body);
            }
            String etag = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body), 0, 8);
            return new Asset(type, body, buf.toByteArray(), etag, immutable);
        } catch (IOException | NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] read(String resource) {
        try (InputStream in = Assets.class.getResourceAsStream(resource)) {
            if (in == null) throw new IllegalStateException("missing from the jar: " + resource);
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

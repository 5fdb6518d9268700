package io.peekd.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Subscriber;
import java.io.IOException;
import java.net.BindException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The web dashboard: the page, its JSON API and a live feed, on the JDK's HTTP server.
 * In the daemon it follows the open window and each stored batch; standalone
 * ({@code peekd web}) it reads the database and polls it for new rows.
 */
public final class WebServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd.web");

    private final WebOptions opts;
    private final HttpServer http;
    private final ExecutorService pool;
    private final Db db;
    private final Views views;
    private final Geo geo;
    private final Live live;
    private final Guard guard;
    private final Assets assets;
    private final Api api;
    private volatile Alerts alerts;
    private final Hostnames hostnames;

    private WebServer(WebOptions opts, HttpServer http, ExecutorService pool, boolean rollups) {
        this.opts = opts;
        this.http = http;
        this.pool = pool;
        ObjectMapper json = new ObjectMapper();
        this.db = new Db(opts.db(), 4);
        this.views = new Views(db, rollups);
        this.geo = Geo.open(opts.geoipDb());
        this.live = new Live(json, geo);
        this.guard = new Guard(opts.token(), Tokens.random(), opts.allowedHosts(), http.getAddress().getPort());
        this.assets = new Assets();
        this.hostnames = opts.reverseDns() ? new Hostnames(Hostnames::system) : null;
        this.api = new Api(json, views, opts, geo, live, guard, () -> alerts, hostnames);
    }

    /**
     * Binds and starts serving.
     *
     * @throws IOException when the address cannot be bound (the message says which and why)
     */
    public static WebServer start(WebOptions opts) throws IOException {
        return start(opts, true);
    }

    /** With {@code rollups} false every view reads the raw windows: the benchmark's baseline. */
    static WebServer start(WebOptions opts, boolean rollups) throws IOException {
        noDelay();
        InetSocketAddress addr = new InetSocketAddress(opts.bind(), opts.port());
        HttpServer http;
        try {
            http = HttpServer.create(addr, 64);
        } catch (BindException e) {
            throw new BindException("cannot serve the dashboard on " + hostPort(opts.bind().getHostAddress(),
                    opts.port(), opts.bind() instanceof Inet6Address) + ": " + e.getMessage()
                    + " (is another dashboard or program using the port? choose another with --port / web.port)");
        }
        // Virtual threads: live feeds hold a request each for as long as a page is open.
        ExecutorService pool = Executors.newThreadPerTaskExecutor(Thread.ofVirtual().name("peekd-web-", 0).factory());
        http.setExecutor(pool);
        WebServer s = new WebServer(opts, http, pool, rollups);
        http.createContext("/", s::handle);
        http.start();
        LOG.log(System.Logger.Level.INFO, "web dashboard at " + s.url());
        return s;
    }

    /**
     * The JDK server sends a response's headers and its body as two writes. With Nagle's
     * algorithm on, a body that does not fit in the first segment waits for the client to
     * acknowledge the headers, which Linux delays by 40 ms: every JSON answer of more than a
     * few kilobytes took 40 ms longer than its query (the dashboard benchmark's groups by
     * executable: 54 ms, 9 ms with this). The JDK reads the property once, when the first
     * server of the process is created; a value set on the command line is kept.
     */
    static void noDelay() {
        if (System.getProperty(NO_DELAY) == null) System.setProperty(NO_DELAY, "true");
    }

    static final String NO_DELAY = "sun.net.httpserver.nodelay";

    /** The daemon's hook: stored batches go to the live feed. */
    public Subscriber subscriber() {
        return new Subscriber() {
            @Override
            public String name() {
                return "web";
            }

            @Override
            public void onBatch(Instant window, List<FlowRow> rows) {
                live.stored(window, rows);
            }
        };
    }

    /** In the daemon: the open window's rows ({@code Daemon::liveRows}), pushed about once a second. */
    public void liveWindow(Supplier<List<FlowRow>> rows) {
        live.window(rows);
    }

    /** Standalone: poll the database for new rows and push them. */
    public void pollDatabase() {
        live.poll(views);
    }

    /** The alert log the alert panel shows. */
    public void alerts(Alerts source) {
        this.alerts = source;
    }

    public InetSocketAddress address() {
        return http.getAddress();
    }

    /** Where to point a browser (with the token, when one is needed, as the first visit wants it). */
    public String url() {
        String host = opts.bind().isAnyLocalAddress() ? "localhost" : opts.bind().getHostAddress();
        return "http://" + hostPort(host, address().getPort(), opts.bind() instanceof Inet6Address
                && !opts.bind().isAnyLocalAddress()) + "/";
    }

    private static String hostPort(String host, int port, boolean v6) {
        return (v6 ? "[" + host + "]" : host) + ":" + port;
    }

    private void handle(HttpExchange ex) throws IOException {
        try {
            Guard.secure(ex.getResponseHeaders());
            Guard.Denial d = guard.checkHost(ex);
            if (d == null) d = firstVisit(ex);
            if (d == null) d = guard.checkToken(ex);
            if (d != null) {
                if (d.status() == 0) return; // answered (redirect)
                api.error(ex, d.status(), d.message());
                return;
            }
            String path = ex.getRequestURI().getPath();
            String method = ex.getRequestMethod();
            if (path.startsWith("/api/")) {
                api.handle(ex, path);
            } else if (assets.has(path)) {
                if (!method.equals("GET") && !method.equals("HEAD")) {
                    ex.getResponseHeaders().set("Allow", "GET, HEAD");
                    api.error(ex, 405, method + " is not allowed here");
                } else {
                    assets.serve(ex, path);
                }
            } else {
                api.error(ex, 404, "not found: " + path);
            }
        } catch (BadRequest e) {
            api.error(ex, 400, e.getMessage());
        } catch (Db.Unavailable e) {
            api.error(ex, 503, e.getMessage());
        } catch (IOException e) {
            // the client went away
            ex.close();
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.ERROR, "web request " + ex.getRequestURI() + " failed", e);
            try {
                api.error(ex, 500, "internal error: " + e);
            } catch (IOException | RuntimeException ignored) {
                ex.close();
            }
        }
    }

    /**
     * {@code GET /?token=...}: trade the token in the URL for a session cookie, then redirect to
     * a URL without it, so it stays out of history and screenshots.
     */
    private Guard.Denial firstVisit(HttpExchange ex) throws IOException {
        if (!guard.tokenRequired() || !ex.getRequestURI().getPath().equals("/")) return null;
        String q = ex.getRequestURI().getRawQuery();
        if (q == null || !q.startsWith("token=")) return null;
        String t = java.net.URLDecoder.decode(q.substring(6), java.nio.charset.StandardCharsets.UTF_8);
        if (!guard.tokenMatches(t)) return new Guard.Denial(401, "wrong access token");
        ex.getResponseHeaders().add("Set-Cookie", guard.cookieName() + "=" + t + "; Path=/; HttpOnly; SameSite=Strict");
        ex.getResponseHeaders().set("Location", "/");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(303, -1);
        ex.close();
        return new Guard.Denial(0, "");
    }

    @Override
    public void close() {
        live.close();
        http.stop(0);
        pool.shutdownNow();
        db.close();
        geo.close();
        if (hostnames != null) hostnames.close();
    }
}

package io.peekd.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import io.peekd.flow.FlowRow;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Server-sent events to open dashboards. Two kinds of event carry connections:
 * {@code live} (the daemon's open window, about once a second) and {@code stored} (rows as
 * they reach the database). Each carries rows summed per process and remote endpoint.
 */
final class Live implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd.web");
    static final int MAX_CLIENTS = 32;
    static final int MAX_ROWS = 300;

    /** One connection of the live feed: a process's traffic to one remote endpoint. */
    record Conn(long time, String exe, String name, int pid, String user, String proto, String raddr, int rport,
                String domain, String country, long sent, long recv, long conns) {
    }

    private record Client(HttpExchange ex, OutputStream out) {
    }

    private final ObjectMapper json;
    private final Geo geo;
    private final Set<Client> clients = ConcurrentHashMap.newKeySet();
    private final Thread ticker;
    private volatile Supplier<List<FlowRow>> window;
    private volatile Views pollViews;
    private Views.Cursor cursor;
    private volatile boolean closed;

    Live(ObjectMapper json, Geo geo) {
        this.json = json;
        this.geo = geo;
        this.ticker = Thread.ofPlatform().daemon().name("peekd-web-live").unstarted(this::tick);
        ticker.start();
    }

    /** In the daemon: the open window's rows, sent once a second. */
    void window(Supplier<List<FlowRow>> source) {
        this.window = source;
    }

    /** Without a daemon in-process: new database rows, polled once a second. */
    void poll(Views views) {
        this.pollViews = views;
    }

    String mode() {
        return window != null ? "daemon" : pollViews != null ? "poll" : "none";
    }

    int clients() {
        return clients.size();
    }

    /** Takes over the exchange of {@code GET /api/live}; the response stays open until the client goes. */
    void open(HttpExchange ex) throws IOException {
        if (clients.size() >= MAX_CLIENTS) {
            Web.text(ex, 503, "too many live dashboards open (" + MAX_CLIENTS + "); close one");
            return;
        }
        ex.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
        ex.getResponseHeaders().set("Cache-Control", "no-store");
        ex.sendResponseHeaders(200, 0);
        Client c = new Client(ex, ex.getResponseBody());
        clients.add(c);
        // Reconnect quickly after a daemon restart; say hello so the page knows the feed works.
        send(c, "retry: 2000\nevent: hello\ndata: {\"mode\":\"" + mode() + "\"}\n\n");
    }

    /** Rows of a window the daemon just handed to the store. */
    void stored(Instant window, List<FlowRow> rows) {
        publish("stored", window.getEpochSecond(), rows);
    }

    private void publish(String event, long window, List<FlowRow> rows) {
        if (clients.isEmpty() || rows.isEmpty()) return;
        String data;
        try {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("window", window);
            m.put("at", Instant.now().getEpochSecond());
            m.put("rows", conns(rows));
            data = json.writeValueAsString(m);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "live event not sent: " + e);
            return;
        }
        String frame = "event: " + event + "\ndata: " + data + "\n\n";
        for (Client c : clients) send(c, frame);
    }

    /** Sums rows per process and endpoint, largest first, at most {@link #MAX_ROWS}. */
    List<Conn> conns(List<FlowRow> rows) {
        record Key(long time, String exe, String name, int pid, String proto, String raddr, int rport, String domain) {
        }
        Map<Key, long[]> sums = new LinkedHashMap<>();
        Map<Key, String> users = new LinkedHashMap<>();
        for (FlowRow r : rows) {
            var id = r.id();
            Key k = new Key(r.time().getEpochSecond(), id == null ? null : id.exe(), id == null ? null : id.name(),
                    id == null ? 0 : id.pid(), r.proto(), r.raddr(), r.rport(), r.domain());
            long[] s = sums.computeIfAbsent(k, x -> new long[3]);
            s[0] += r.sent();
            s[1] += r.recv();
            s[2] += r.conns();
            if (id != null) users.putIfAbsent(k, id.user());
        }
        List<Conn> out = new ArrayList<>(sums.size());
        sums.forEach((k, s) -> out.add(new Conn(k.time(), k.exe(), k.name(), k.pid(), users.get(k), k.proto(), k.raddr(),
                k.rport(), k.domain(), geo.country(k.raddr()), s[0], s[1], s[2])));
        out.sort((a, b) -> Long.compare(b.sent() + b.recv(), a.sent() + a.recv()));
        return out.size() > MAX_ROWS ? List.copyOf(out.subList(0, MAX_ROWS)) : out;
    }

    private void send(Client c, String frame) {
        synchronized (c) {
            try {
                c.out().write(frame.getBytes(StandardCharsets.UTF_8));
                c.out().flush();
            } catch (IOException | RuntimeException e) {
                drop(c);
            }
        }
    }

    private void drop(Client c) {
        if (clients.remove(c)) c.ex().close();
    }

    private void tick() {
        long beats = 0;
        while (!closed) {
            try {
                Thread.sleep(1000);
            } catch (InterruptedException e) {
                return;
            }
            try {
                Supplier<List<FlowRow>> w = window;
                Views v = pollViews;
                if (w != null) {
                    if (!clients.isEmpty()) {
                        List<FlowRow> rows = w.get();
                        if (!rows.isEmpty()) publish("live", rows.getFirst().time().getEpochSecond(), rows);
                    }
                } else if (v != null) {
                    pollDb(v);
                }
                // A comment line now and then, so proxies keep the stream and dead clients are noticed.
                if (++beats % 15 == 0) for (Client c : clients) send(c, ": keep-alive\n\n");
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, "live tick: " + e);
            }
        }
    }

    private void pollDb(Views v) {
        if (cursor == null && !v.exists()) return;
        Views.Tail t = v.after(cursor, 5000);
        cursor = t.cursor();
        if (t.rows().isEmpty()) return;
        Map<Long, List<FlowRow>> byWindow = new LinkedHashMap<>();
        for (FlowRow r : t.rows()) byWindow.computeIfAbsent(r.time().getEpochSecond(), x -> new ArrayList<>()).add(r);
        byWindow.forEach((w, rows) -> publish("stored", w, rows));
    }

    @Override
    public void close() {
        closed = true;
        ticker.interrupt();
        for (Client c : clients) drop(c);
    }
}

package io.peekd.rpc;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import jdk.net.UnixDomainPrincipal;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.peekd.flow.FlowRow;
import io.peekd.store.DbOps;
import io.peekd.store.DbStats;
import io.peekd.store.Query;
import io.peekd.store.Reader;
import io.peekd.store.Report;
import io.peekd.store.RowJson;
import io.peekd.store.Store;
import io.peekd.store.StoreException;
import io.peekd.store.Totals;

/**
 * The daemon's Unix socket ({@code run_dir/peekd.sock}). It answers {@code peekd query} with
 * the stored rows plus the window not stored yet, runs reports and database maintenance,
 * and decides from the caller's kernel-verified credentials what they may see
 * ({@link PeerAccess}).
 *
 * <p>The socket file is world-connectable on purpose: access is decided per caller, so that
 * users can see their own traffic without reading the root-only database.
 */
public final class RpcServer implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(RpcServer.class.getName());
    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration ANSWER_TIMEOUT = Duration.ofMinutes(10);
    private static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(3);
    private static final int MAX_CLIENTS = 16;

    /** The rows of the window that is still open, copied while {@code atPin} runs with no window closing. */
    @FunctionalInterface
    public interface LiveRows {
        List<FlowRow> pinned(Runnable atPin);
    }

    private final Path socket;
    private final String readerGroup;
    private final Store store;
    private final LiveRows live;
    private final Accounts accounts;
    private final ServerSocketChannel server;
    private final Thread acceptor;
    private final ExecutorService handlers;
    private final ScheduledExecutorService watchdog;
    private final Semaphore slots = new Semaphore(MAX_CLIENTS);
    private volatile boolean closed;
    /** The daemon's metrics document, built when asked (peekd status); null until the daemon sets it. */
    private volatile java.util.function.Supplier<java.util.Map<String, Object>> metrics;

    private RpcServer(Path socket, String readerGroup, Store store, LiveRows live, Accounts accounts,
                      ServerSocketChannel server) {
        this.socket = socket;
        this.readerGroup = readerGroup;
        this.store = store;
        this.live = live;
        this.accounts = accounts;
        this.server = server;
        this.handlers = Executors.newThreadPerTaskExecutor(Thread.ofPlatform().daemon().name("peekd-rpc-", 0).factory());
        this.watchdog = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform().daemon().name("peekd-rpc-watchdog").factory());
        this.acceptor = Thread.ofPlatform().daemon().name("peekd-rpc").unstarted(this::acceptLoop);
    }

    /**
     * Binds the socket and starts answering.
     *
     * @param store       the daemon's store, or null when the history is off (answers are live only)
     * @param readerGroup members of this group see every process; empty for none
     * @throws IOException when the socket cannot be created, or another peekd answers on it
     */
    /** Where the {@code metrics} op takes its answer from. */
    public void metrics(java.util.function.Supplier<java.util.Map<String, Object>> source) {
        this.metrics = source;
    }

    public static RpcServer start(Path socket, String readerGroup, Store store, LiveRows live) throws IOException {
        return start(socket, readerGroup, store, live, new Accounts());
    }

    static RpcServer start(Path socket, String readerGroup, Store store, LiveRows live, Accounts accounts)
            throws IOException {
        Files.createDirectories(socket.getParent());
        if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
            if (answers(socket)) {
                throw new IOException("another peekd already answers on " + socket
                        + "; give this instance its own [paths] run_dir");
            }
            // Left behind by a daemon that did not shut down cleanly.
            Files.delete(socket);
        }
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(socket), MAX_CLIENTS);
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        RpcServer s = new RpcServer(socket, readerGroup, store, live, accounts, ch);
        s.acceptor.start();
        return s;
    }

    private static boolean answers(Path socket) {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    public Path socket() {
        return socket;
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (IOException e) {
                if (!closed) {
                    LOG.log(System.Logger.Level.ERROR, "rpc socket " + socket + " failed, no more queries answered: " + e);
                }
                return;
            }
            if (!slots.tryAcquire()) {
                handlers.execute(() -> refuse(c));
                continue;
            }
            try {
                handlers.execute(() -> {
                    try {
                        serve(c);
                    } finally {
                        slots.release();
                    }
                });
            } catch (RuntimeException e) {
                slots.release();
                closeQuietly(c);
            }
        }
    }

    private void refuse(SocketChannel c) {
        try (c; OutputStream out = Channels.newOutputStream(c)) {
            write(out, error("busy", "the daemon is answering " + MAX_CLIENTS + " other requests; try again"));
        } catch (IOException ignored) {
            // the caller left
        }
    }

    private void serve(SocketChannel c) {
        // Nobody may hold a connection open without asking, or take forever over a request.
        ScheduledFuture<?> kill = watchdog.schedule(() -> closeQuietly(c), REQUEST_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        try (c) {
            UnixDomainPrincipal principal = c.getOption(jdk.net.ExtendedSocketOptions.SO_PEERCRED);
            Optional<PeerAccess> peer = PeerAccess.of(principal, readerGroup, accounts);
            byte[] line = readRequest(Channels.newInputStream(c));
            kill.cancel(false);
            kill = watchdog.schedule(() -> closeQuietly(c), ANSWER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            OutputStream out = Channels.newOutputStream(c);
            if (peer.isEmpty()) {
                write(out, error("denied", "cannot tell who is calling (uid " + principal.user().getName() + ")"));
                return;
            }
            JsonNode req;
            try {
                req = Wire.JSON.readTree(line);
                if (req == null || !req.isObject()) {
                    throw new IOException("not a JSON object");
                }
            } catch (IOException e) {
                write(out, error("bad_request", "a request is one JSON object: " + e.getMessage()));
                return;
            }
            answer(req, peer.get(), out);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "rpc client left: " + e);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "rpc request failed: " + e, e);
        } finally {
            kill.cancel(false);
        }
    }

    private static byte[] readRequest(InputStream in) throws IOException {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        while (buf.size() <= Wire.MAX_REQUEST) {
            int b = in.read();
            if (b < 0 || b == '\n') {
                return buf.toByteArray();
            }
            buf.write(b);
        }
        throw new IOException("request longer than " + Wire.MAX_REQUEST + " bytes");
    }

    private void answer(JsonNode req, PeerAccess peer, OutputStream out) throws IOException {
        String op = req.path("op").asText("");
        try {
            ObjectNode ok = Wire.NODES.objectNode().put("ok", true)
                    .put("uid", peer.uid()).put("user", peer.name()).put("scope", peer.seesAll() ? "all" : "own");
            switch (op) {
                case "hello" -> write(out, ok.put("history", store != null));
                case "query" -> query(req, peer, ok, out);
                case "report" -> {
                    Report.Spec asked = Wire.report(req);
                    Report.Spec spec = new Report.Spec(asked.from(), asked.to(), asked.by(), asked.filters(),
                            asked.where(), asked.top(), peer.onlyUid());
                    requireHistory();
                    flushWriter();
                    try (Reader r = Reader.open(store.file())) {
                        ok.set("result", Wire.result(r.report(spec)));
                    }
                    write(out, ok);
                }
                case "metrics" -> {
                    // The same document as metrics.json (readable by every user), but as of now.
                    var m = metrics;
                    if (m == null) throw new IllegalStateException("this daemon reports no metrics");
                    ok.set("metrics", Wire.JSON.valueToTree(m.get()));
                    write(out, ok);
                }
                case "stats" -> {
                    requireAll(peer, "database statistics");
                    requireHistory();
                    try (Reader r = Reader.open(store.file())) {
                        ok.set("stats", Wire.JSON.valueToTree(stats(r.tableStats())));
                    }
                    write(out, ok);
                }
                case "checkpoint" -> {
                    requireRoot(peer, "checkpoint");
                    requireHistory();
                    DbOps.Checkpoint cp = DbOps.checkpoint(store.writer());
                    write(out, ok.put("busy", cp.busy()).put("log_pages", cp.logPages()).put("copied_pages", cp.copiedPages()));
                }
                case "vacuum" -> {
                    requireRoot(peer, "vacuum");
                    requireHistory();
                    DbOps.Vacuum v = DbOps.vacuum(store.writer(), store.file(), false);
                    write(out, ok.put("full", v.full()).put("freed_pages", v.freedPages())
                            .put("bytes_before", v.bytesBefore()).put("bytes_after", v.bytesAfter()));
                }
                default -> write(out, error("bad_request", "unknown op \"" + op + "\"; ops are hello, query, report,"
                        + " stats, checkpoint, vacuum"));
            }
        } catch (Denied e) {
            write(out, error("denied", e.getMessage()));
        } catch (IllegalArgumentException e) {
            write(out, error("bad_request", e.getMessage()));
        } catch (StoreException | IllegalStateException e) {
            write(out, error("failed", e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            write(out, error("failed", "the daemon is shutting down"));
        }
    }

    private void query(JsonNode req, PeerAccess peer, ObjectNode ok, OutputStream out) throws IOException {
        Query q = Wire.query(req);
        boolean sum = req.path("sum_bytes").asBoolean(false);
        OptionalInt only = peer.onlyUid();
        // Sums are ranked after the live rows are added, so the database gives all groups.
        Query stored = sum ? new Query(q.since(), q.until(), q.name(), q.exe(), 0) : q;
        List<FlowRow> liveRows;
        List<FlowRow> rows = List.of();
        List<Totals> totals = List.of();
        boolean[] complete = {true};
        if (store == null) {
            liveRows = live.pinned(() -> { });
        } else {
            try (Reader r = Reader.open(store.file())) {
                List<List<FlowRow>> box = new ArrayList<>(1);
                // The snapshot is taken with no window closing, after everything closed before was
                // stored: each window is then either in the snapshot or live, exactly once.
                Object got = r.pinned(take -> box.add(live.pinned(() -> {
                    complete[0] = flushWriter();
                    take.run();
                })), () -> sum ? r.sumBytes(stored, only) : r.query(stored, only));
                liveRows = box.getFirst();
                if (sum) {
                    @SuppressWarnings("unchecked")
                    List<Totals> t = (List<Totals>) got;
                    totals = t;
                } else {
                    @SuppressWarnings("unchecked")
                    List<FlowRow> t = (List<FlowRow>) got;
                    rows = t;
                }
            }
        }
        List<FlowRow> extra = liveRows.stream().filter(x -> matches(q, only, x)).toList();
        ok.put("live_rows", extra.size());
        if (!complete[0]) {
            ok.put("incomplete", "the database writer is behind; windows waiting for it are not included");
        }
        if (sum) {
            ArrayNode arr = ok.putArray("totals");
            for (Totals t : mergeTotals(totals, extra, q.limit())) {
                arr.addObject().put("exe", t.exe()).put("name", t.name()).put("sent", t.sent()).put("recv", t.recv())
                        .put("conns", t.conns()).put("total", t.total());
            }
        } else {
            List<FlowRow> all = new ArrayList<>(rows);
            all.addAll(extra);
            all.sort(Comparator.comparing(FlowRow::time));
            if (q.limit() > 0 && all.size() > q.limit()) {
                all = all.subList(all.size() - q.limit(), all.size());
            }
            ok.set("rows", Wire.JSON.readTree(RowJson.toJson(all)));
        }
        write(out, ok);
    }

    private static boolean matches(Query q, OptionalInt only, FlowRow r) {
        long t = r.time().getEpochSecond();
        return (q.since() == null || t >= ceil(q.since())) && (q.until() == null || t < ceil(q.until()))
                && (q.name() == null || q.name().equals(r.id().name()))
                && (q.exe() == null || q.exe().equals(r.id().exe()))
                && (only.isEmpty() || r.id().uid() == only.getAsInt());
    }

    private static long ceil(Instant t) {
        return t.getEpochSecond() + (t.getNano() > 0 ? 1 : 0);
    }

    private static List<Totals> mergeTotals(List<Totals> stored, List<FlowRow> live, int limit) {
        Map<List<String>, long[]> m = new HashMap<>();
        for (Totals t : stored) {
            long[] s = m.computeIfAbsent(java.util.Arrays.asList(t.exe(), t.name()), k -> new long[3]);
            s[0] += t.sent();
            s[1] += t.recv();
            s[2] += t.conns();
        }
        for (FlowRow r : live) {
            long[] s = m.computeIfAbsent(java.util.Arrays.asList(r.id().exe(), r.id().name()), k -> new long[3]);
            s[0] += r.sent();
            s[1] += r.recv();
            s[2] += r.conns();
        }
        List<Totals> out = new ArrayList<>();
        m.forEach((k, s) -> out.add(new Totals(k.get(0), k.get(1), s[0], s[1], s[2])));
        out.sort(Comparator.comparingLong(Totals::total).reversed()
                .thenComparing(Totals::exe, Comparator.nullsFirst(Comparator.naturalOrder()))
                .thenComparing(Totals::name, Comparator.nullsFirst(Comparator.naturalOrder())));
        return limit > 0 && out.size() > limit ? out.subList(0, limit) : out;
    }

    /** Waits (briefly) until every closed window is stored; false when the writer is behind. */
    private boolean flushWriter() {
        if (store == null) {
            return true;
        }
        try {
            return store.writer().flush(FLUSH_TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } catch (IllegalStateException e) {
            return false;
        }
    }

    private static Map<String, Object> stats(DbStats s) {
        Map<String, Object> m = new java.util.LinkedHashMap<>();
        m.put("file", s.file().toString());
        m.put("schema_version", s.schemaVersion());
        m.put("db_id", s.dbId());
        m.put("file_bytes", s.fileBytes());
        m.put("wal_bytes", s.walBytes());
        m.put("page_size", s.pageSize());
        m.put("pages", s.pages());
        m.put("free_pages", s.freePages());
        m.put("auto_vacuum", s.autoVacuum());
        m.put("outbox_on", s.outboxOn());
        List<Map<String, Object>> tables = new ArrayList<>();
        for (DbStats.Table t : s.tables()) {
            Map<String, Object> tm = new java.util.LinkedHashMap<>();
            tm.put("name", t.name());
            tm.put("rows", t.rows());
            tm.put("oldest", t.oldest() == null ? null : t.oldest().toString());
            tm.put("newest", t.newest() == null ? null : t.newest().toString());
            tm.put("cutoff", t.cutoff() == null ? null : t.cutoff().toString());
            tables.add(tm);
        }
        m.put("tables", tables);
        return m;
    }

    /** {@link DbStats} as the socket and {@code peekd db stats --json} show it. */
    public static Map<String, Object> statsMap(DbStats s) {
        return stats(s);
    }

    private static final class Denied extends RuntimeException {
        Denied(String message) {
            super(message);
        }
    }

    private static void requireRoot(PeerAccess p, String what) {
        if (!p.root()) {
            throw new Denied(what + " needs root; you are " + p.name() + " (uid " + p.uid() + ")");
        }
    }

    private void requireAll(PeerAccess p, String what) {
        if (!p.seesAll()) {
            throw new Denied(what + " cover every user's traffic; run as root or join the group \"" + readerGroup + "\"");
        }
    }

    private void requireHistory() {
        if (store == null) {
            throw new IllegalStateException("the daemon keeps no history (database.enabled = false)");
        }
    }

    private static ObjectNode error(String code, String message) {
        return Wire.NODES.objectNode().put("ok", false).put("code", code).put("error", message);
    }

    private static void write(OutputStream out, JsonNode n) throws IOException {
        Wire.JSON.writeValue(new java.io.FilterOutputStream(out) {
            @Override
            public void close() throws IOException {
                flush(); // the socket stays open until serve() ends
            }
        }, n);
        out.flush();
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // already closed
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        acceptor.interrupt();
        try {
            acceptor.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        handlers.shutdown();
        try {
            if (!handlers.awaitTermination(5, TimeUnit.SECONDS)) {
                handlers.shutdownNow();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        watchdog.shutdownNow();
        try {
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove " + socket + ": " + e);
        }
    }
}

package io.peekd.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.Query;
import io.peekd.store.Report;
import io.peekd.store.Store;
import io.peekd.testkit.Exec;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The daemon's socket with a real store, real callers (root in this JVM; nobody through
 * {@code setpriv} and {@code socat}) and the kernel's SO_PEERCRED.
 */
class RpcServerTest {

    static final Instant T0 = Instant.parse("2026-05-01T12:00:00Z");
    static final int NOBODY = 65534;

    @TempDir
    Path dir;
    Path socket;
    Store store;
    Accounts accounts;
    RpcServer server;

    static Identity id(String exe, int uid, String user) {
        return new Identity(exe, Path.of(exe).getFileName().toString(), exe, null, 7, "/bin/sh", "sh", "sh", null, 1, uid,
                user, null, null);
    }

    static FlowRow row(Instant t, Identity id, long sent, long recv) {
        return new FlowRow(t, id, "tcp", 4, "10.0.0.1", 40000, "192.0.2.9", 443, "example.org", "dns", "high", sent, recv, 1);
    }

    @BeforeEach
    void setUp() throws Exception {
        // The socket's directory must be reachable for the unprivileged caller.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        socket = dir.resolve("run/peekd.sock");
        store = Store.open(dir.resolve("data/peekd.db"));
        assertThat(store.writer().submit(List.of(
                row(T0, id("/usr/bin/rootd", 0, "root"), 100, 1000),
                row(T0, id("/usr/bin/mine", NOBODY, "nobody"), 7, 70),
                row(T0.plusSeconds(5), id("/usr/bin/alices", 1000, "alice"), 5, 50)))).isTrue();
        assertThat(store.writer().flush(Duration.ofSeconds(30))).isTrue();
        accounts = new Accounts(Files.writeString(dir.resolve("passwd"), """
                root:x:0:0:root:/root:/bin/sh
                nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
                """), Files.writeString(dir.resolve("group"), """
                root:x:0:
                peekd:x:4242:someoneelse
                nogroup:x:65534:
                """));
    }

    @AfterEach
    void tearDown() {
        if (server != null) server.close();
        store.close();
    }

    /** Sends one request line as uid/gid 65534 and returns the answer. */
    JsonNode asNobody(String request) throws Exception {
        Exec e = Exec.run(Duration.ofSeconds(60), List.of("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY,
                "--clear-groups", "--", "sh", "-c", "printf '%s\\n' \"$0\" | socat -t 30 - UNIX-CONNECT:\"$1\"",
                request, socket.toString()));
        assertThat(e.exitCode()).as(e.stderr()).isZero();
        return Wire.JSON.readTree(e.stdout());
    }

    @Test
    void rootSeesStoredAndLiveRowsAndMayRunMaintenance() {
        List<FlowRow> live = List.of(row(T0.plusSeconds(10), id("/usr/bin/rootd", 0, "root"), 1, 2));
        server = start("peekd", at -> {
            at.run();
            return live;
        });
        RpcClient c = RpcClient.connect(socket).orElseThrow();
        assertThat(c.hello().seesAll()).isTrue();
        RpcClient.Rows got = c.query(new Query(T0.minusSeconds(1), null, null, null, 0), false);
        assertThat(got.rows()).hasSize(4);
        assertThat(got.liveRows()).isEqualTo(1);
        assertThat(got.rows().getLast().sent()).isEqualTo(1);
        RpcClient.Rows sums = c.query(new Query(T0.minusSeconds(1), null, null, "/usr/bin/rootd", 0), true);
        assertThat(sums.totals()).singleElement().satisfies(t -> {
            assertThat(t.sent()).isEqualTo(101);
            assertThat(t.recv()).isEqualTo(1002);
        });
        // limit: the newest rows, live ones included
        assertThat(c.query(new Query(T0.minusSeconds(1), null, null, null, 2), false).rows())
                .extracting(r -> r.id().exe()).containsExactly("/usr/bin/alices", "/usr/bin/rootd");
        Report.Result rep = c.report(new Report.Spec(T0.minusSeconds(60), T0.plusSeconds(60), List.of(Report.Dim.USER),
                Report.Filters.none(), null, 0, OptionalInt.empty()));
        assertThat(rep.rows()).extracting(r -> r.keys().getFirst()).containsExactly("root", "nobody", "alice");
        assertThat(c.op("checkpoint").path("busy").asBoolean()).isFalse();
        assertThat(c.op("stats").path("stats").path("schema_version").asInt()).isEqualTo(io.peekd.store.StoreTestAccess.currentSchema());
    }

    @Test
    void anotherUserSeesOnlyTheirOwnProcessesWhateverTheyAsk() throws Exception {
        List<FlowRow> live = List.of(row(T0.plusSeconds(10), id("/usr/bin/mine", NOBODY, "nobody"), 3, 30),
                row(T0.plusSeconds(10), id("/usr/bin/rootd", 0, "root"), 1, 2));
        server = start("peekd", at -> {
            at.run();
            return live;
        });
        JsonNode hello = asNobody("{\"op\":\"hello\"}");
        assertThat(hello.path("uid").asInt()).isEqualTo(NOBODY);
        assertThat(hello.path("scope").asText()).isEqualTo("own");

        JsonNode q = asNobody(Wire.query(new Query(T0.minusSeconds(1), null, null, null, 0), false).toString());
        assertThat(q.path("rows")).hasSize(2);
        q.path("rows").forEach(r -> assertThat(r.path("uid").asInt()).isEqualTo(NOBODY));
        assertThat(q.path("live_rows").asInt()).isEqualTo(1);

        // A uid in the request, a filter for someone else's exe, or a --where that tries to widen: still only their own.
        var sneaky = Wire.report(new Report.Spec(T0.minusSeconds(60), T0.plusSeconds(60), List.of(Report.Dim.USER),
                Report.Filters.none(), io.peekd.store.Where.parse("uid = 0 or uid != 0"), 0, OptionalInt.of(0)));
        sneaky.put("only_uid", 0).put("uid", 0).put("scope", "all");
        JsonNode rep = asNobody(sneaky.toString());
        assertThat(rep.path("ok").asBoolean()).as(rep.toString()).isTrue();
        assertThat(rep.path("result").path("rows")).singleElement()
                .satisfies(r -> assertThat(r.path("keys").get(0).asText()).isEqualTo("nobody"));
        JsonNode other = asNobody(Wire.query(new Query(null, null, null, "/usr/bin/rootd", 0), false).toString());
        assertThat(other.path("rows")).isEmpty();

        JsonNode cp = asNobody("{\"op\":\"checkpoint\"}");
        assertThat(cp.path("ok").asBoolean()).isFalse();
        assertThat(cp.path("code").asText()).isEqualTo("denied");
        assertThat(asNobody("{\"op\":\"stats\"}").path("code").asText()).isEqualTo("denied");
    }

    @Test
    void membersOfTheReaderGroupSeeEveryone() throws Exception {
        Files.writeString(dir.resolve("group"), "peekd:x:4242:someone,nobody\n");
        server = start("peekd", at -> {
            at.run();
            return List.of();
        });
        JsonNode q = asNobody(Wire.query(new Query(T0.minusSeconds(1), null, null, null, 0), false).toString());
        assertThat(q.path("scope").asText()).isEqualTo("all");
        assertThat(q.path("rows")).hasSize(3);
        // the group's name must match the configured one
        server.close();
        server = start("auditors", at -> {
            at.run();
            return List.of();
        });
        assertThat(asNobody("{\"op\":\"hello\"}").path("scope").asText()).isEqualTo("own");
    }

    @Test
    void badRequestsGetAnAnswerAndTheServerKeepsServing() throws Exception {
        server = start("peekd", at -> {
            at.run();
            return List.of();
        });
        assertThat(raw("this is not json\n")).contains("\"code\":\"bad_request\"");
        assertThat(raw("[1,2]\n")).contains("a request is one JSON object");
        assertThat(raw("{\"op\":\"drop\"}\n")).contains("unknown op");
        assertThat(raw("{\"op\":\"report\",\"from\":\"yesterday\"}\n")).contains("not an ISO-8601 UTC time");
        assertThat(raw("{\"op\":\"report\",\"from\":\"2026-01-01T00:00:00Z\",\"to\":\"2026-01-02T00:00:00Z\","
                + "\"by\":[\"exe\"],\"where\":\"exe = 'x' or\"}\n")).contains("bad_request");
        // Longer than any request may be: refused without reading it all.
        String huge = "{\"op\":\"hello\",\"pad\":\"" + "x".repeat(100_000) + "\"}\n";
        assertThat(raw(huge)).doesNotContain("\"ok\":true");
        // A caller that connects and says nothing does not keep others out.
        try (SocketChannel silent = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            assertThat(RpcClient.connect(socket).orElseThrow().hello().uid()).isZero();
        }
        assertThat(RpcClient.connect(socket)).isPresent();
    }

    @Test
    void aStaleSocketIsReplacedAndALiveOneIsNot() throws Exception {
        Files.createDirectories(socket.getParent());
        // What a crashed daemon leaves: a socket file nobody listens on.
        try (var ch = java.nio.channels.ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(RpcClient.connect(socket)).isEmpty();
        server = start("peekd", at -> {
            at.run();
            return List.of();
        });
        assertThat(RpcClient.connect(socket)).isPresent();
        assertThatThrownBy(() -> RpcServer.start(socket, "peekd", store, at -> List.of(), accounts))
                .hasMessageContaining("another peekd already answers");
        server.close();
        assertThat(socket).doesNotExist();
        server = null;
    }

    /**
     * Windows move from "live" to "stored" while queries run. The snapshot is taken while the
     * daemon holds its lock, so each answer counts exactly what existed at that moment: no
     * window twice, none missing.
     */
    @Test
    void liveQueriesCountEachWindowExactlyOnceWhileWindowsAreStored() throws Exception {
        Object lock = new Object();
        List<FlowRow> open = new ArrayList<>();
        AtomicLong produced = new AtomicLong(), atPin = new AtomicLong(-1);
        AtomicBoolean stop = new AtomicBoolean();
        Identity me = id("/usr/bin/busy", 0, "root");
        Thread daemon = Thread.ofPlatform().start(() -> {
            for (int w = 0; w < 400 && !stop.get(); w++) {
                synchronized (lock) {
                    if (w % 3 == 2) {
                        // the window closes: handed to the writer, a new one opens
                        store.writer().submit(List.copyOf(open));
                        open.clear();
                    }
                    open.add(row(T0.plusSeconds(100 + w / 3 * 5L), me, 1, 0));
                    produced.incrementAndGet();
                }
                Thread.onSpinWait();
            }
        });
        server = start("peekd", at -> {
            synchronized (lock) {
                at.run();
                atPin.set(produced.get());
                return List.copyOf(open);
            }
        });
        RpcClient c = RpcClient.connect(socket).orElseThrow();
        Query q = new Query(null, null, null, "/usr/bin/busy", 0);
        int checked = 0;
        for (int i = 0; i < 40 && (daemon.isAlive() || i < 2); i++) {
            RpcClient.Rows got = c.query(q, true);
            long sum = got.totals().isEmpty() ? 0 : got.totals().getFirst().sent();
            assertThat(sum).as("query %d", i).isEqualTo(atPin.get());
            checked++;
        }
        stop.set(true);
        daemon.join(30_000);
        assertThat(checked).isGreaterThanOrEqualTo(2);
    }

    /**
     * A window handed to the writer but not committed yet (the writer waits for a lock held
     * elsewhere) is neither in the database nor live: the query must wait for it.
     */
    @Test
    void aWindowTheWriterHasNotCommittedYetIsCounted() throws Exception {
        Identity me = id("/usr/bin/late", 0, "root");
        try (java.sql.Connection other = java.sql.DriverManager.getConnection("jdbc:sqlite:" + store.file());
             java.sql.Statement st = other.createStatement()) {
            st.execute("BEGIN IMMEDIATE");
            assertThat(store.writer().submit(List.of(row(T0.plusSeconds(50), me, 5, 6)))).isTrue();
            List<Thread> release = new ArrayList<>();
            server = start("peekd", at -> {
                // The lock goes away only after the query reached the daemon, so a snapshot taken
                // without waiting for the writer would miss the window.
                release.add(Thread.ofPlatform().start(() -> {
                    try {
                        Thread.sleep(300);
                        st.execute("COMMIT");
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
                at.run();
                return List.of();
            });
            RpcClient.Rows got = RpcClient.connect(socket).orElseThrow().query(new Query(null, null, null, "/usr/bin/late", 0), false);
            for (Thread t : release) {
                t.join();
            }
            assertThat(got.incomplete()).isNull();
            assertThat(got.rows()).singleElement().satisfies(r -> assertThat(r.sent()).isEqualTo(5));
        }
    }

    private RpcServer start(String group, RpcServer.LiveRows live) {
        try {
            return RpcServer.start(socket, group, store, live, accounts);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    private String raw(String request) throws Exception {
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            try {
                ch.write(ByteBuffer.wrap(request.getBytes(StandardCharsets.UTF_8)));
                ch.shutdownOutput();
            } catch (java.io.IOException e) {
                // the server may close on us while we still write (oversized request)
            }
            try {
                return new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.UTF_8);
            } catch (java.io.IOException e) {
                return "";
            }
        }
    }

}

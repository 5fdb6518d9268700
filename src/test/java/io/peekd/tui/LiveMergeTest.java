package io.peekd.tui;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.rpc.RpcServer;
import io.peekd.store.Reader;
import io.peekd.store.Store;

/**
 * The view with a daemon: {@link ViewDb}'s history in a real SQLite file, a real
 * {@link RpcServer} on a temporary socket whose live rows are not in the file, and one window
 * that the daemon commits between the view's snapshot and its own. The oracle for every tab
 * is the same view over a second database that simply holds all those rows.
 */
class LiveMergeTest {

    @TempDir
    Path dir;
    Path db;
    Path socket;
    Instant now;
    long t;
    LiveDaemon daemon;

    /** A process that exists only in the daemon's memory so far. */
    static Identity carol() {
        return new Identity("/opt/new/fetch", "fetch", "fetch --all", null, 9000, "/usr/bin/bash", "bash", "-bash",
                ViewDb.BASH_SHA, 100, 2000, "carol", null, "box");
    }

    /** Committed by the daemon while the view's query runs (after the view's snapshot). */
    List<FlowRow> closingWindow() {
        return List.of(ViewDb.row(Instant.ofEpochSecond(t - 2), ViewDb.curl(), "10.0.0.1", 40200, "93.184.216.34", 443,
                "example.org", 70, 90));
    }

    /** The open window. */
    List<FlowRow> openWindow() {
        return List.of(
                ViewDb.row(Instant.ofEpochSecond(t), ViewDb.curl(), "10.0.0.1", 40100, "93.184.216.34", 443,
                        "example.org", 7, 9),
                ViewDb.row(Instant.ofEpochSecond(t), carol(), "10.0.0.2", 41000, "198.51.100.77", 8443, "new.test", 11,
                        13));
    }

    @BeforeEach
    void history() throws Exception {
        db = dir.resolve("data/peekd.db");
        socket = dir.resolve("run/peekd.sock");
        now = Instant.now();
        t = now.getEpochSecond();
        ViewDb.write(db, now);
    }

    @AfterEach
    void stop() {
        if (daemon != null) {
            daemon.close();
        }
    }

    private Page view(ViewQuery q, DaemonFeed feed) throws Exception {
        try (Reader r = Reader.open(db)) {
            return r.readChecked(c -> q.run(c, ps -> { }, Annotator.NONE, feed == null ? null : feed::after));
        }
    }

    private static Page stored(Path file, ViewQuery q) throws Exception {
        try (Reader r = Reader.open(file)) {
            return r.readChecked(c -> q.run(c, ps -> { }, Annotator.NONE));
        }
    }

    private ViewQuery query(Dimension d, TimeRange range, Filter... filters) {
        return new ViewQuery(d, List.of(filters), range, 0, t + 1, ZoneId.systemDefault());
    }

    /** What the view shows is exactly the oracle's page: same keys, labels, bytes and order. */
    private static void assertSamePage(Page got, Page want) {
        assertThat(got.entries()).as(got.query().dim().id()).containsExactlyElementsOf(want.entries());
        assertThat(got.sent()).isEqualTo(want.sent());
        assertThat(got.recv()).isEqualTo(want.recv());
        assertThat(got.bucket()).isEqualTo(want.bucket());
    }

    private Path oracle(List<FlowRow> extra) throws Exception {
        Path all = dir.resolve("oracle/peekd.db");
        Files.createDirectories(all.getParent());
        Files.copy(db, all);
        ViewDb.append(all, extra);
        return all;
    }

    @Test
    void everyTabCountsStoredClosingAndOpenWindowsEachOnce() throws Exception {
        List<FlowRow> extra = new ArrayList<>(closingWindow());
        extra.addAll(openWindow());
        Path all = oracle(extra);
        daemon = LiveDaemon.start(db, socket);
        daemon.open.set(openWindow());
        DaemonFeed feed = DaemonFeed.at(socket);

        // The exact sums: curl 1500/27000 stored, 70/90 committed meanwhile, 7/9 open.
        daemon.closing.set(closingWindow());
        Page exe = view(query(Dimension.EXE, TimeRange.ALL), feed);
        assertThat(exe.entries()).extracting(Entry::label, Entry::sent, Entry::recv).containsExactly(
                org.assertj.core.groups.Tuple.tuple("/usr/bin/wget", 400L, 1_000_200L),
                org.assertj.core.groups.Tuple.tuple("/usr/bin/curl", 1577L, 27_099L),
                org.assertj.core.groups.Tuple.tuple("/usr/sbin/sshd", 5000L, 6000L),
                org.assertj.core.groups.Tuple.tuple(ViewDb.EVIL_EXE, 42L, 43L),
                org.assertj.core.groups.Tuple.tuple("/opt/new/fetch", 11L, 13L));
        assertThat(exe.sent()).isEqualTo(ViewDb.SENT_ALL + 70 + 7 + 11);
        assertThat(exe.recv()).isEqualTo(ViewDb.RECV_ALL + 90 + 9 + 13);
        // The closing window came back as stored from the daemon's snapshot; two rows are live.
        assertThat(exe.liveRows()).isEqualTo(3);
        assertThat(exe.liveNote()).isNull();

        // Now the closing window is in the file: the view's snapshot has it, the daemon skips it.
        for (Dimension d : Dimension.values()) {
            for (TimeRange r : List.of(TimeRange.ALL, TimeRange.MINUTE, TimeRange.HOUR)) {
                ViewQuery q = query(d, r);
                Page got = view(q, feed);
                assertSamePage(got, stored(all, q));
                assertThat(got.liveRows()).as(d.id()).isEqualTo(2);
            }
        }
        // Filters apply to the daemon's rows as to stored ones, the time filter included.
        Filter bash = new Filter(Dimension.PEXE, "/usr/bin/bash", 0, false, "/usr/bin/bash", Dimension.PEXE);
        Filter notCurl = new Filter(Dimension.NAME, "curl", 0, true, "curl", Dimension.NAME);
        Filter port = new Filter(Dimension.LPORT, 41000L, 0, false, "41000", Dimension.LPORT);
        Filter lastMinute = new Filter(Dimension.TIME, t - 59, 60, false, "now", Dimension.TIME);
        for (Dimension d : Dimension.values()) {
            for (Filter[] fs : List.of(new Filter[] {bash}, new Filter[] {bash, notCurl}, new Filter[] {port},
                    new Filter[] {lastMinute, notCurl})) {
                ViewQuery q = query(d, TimeRange.ALL, fs);
                assertSamePage(view(q, feed), stored(all, q));
            }
        }
        Page onlyCarol = view(query(Dimension.USER, TimeRange.ALL, port), feed);
        assertThat(onlyCarol.entries()).extracting(Entry::label).containsExactly("carol (2000)");
        assertThat(onlyCarol.liveRows()).isEqualTo(1);
    }

    @Test
    void aRowAtTheNewestStoredSecondIsNotCountedTwice() throws Exception {
        daemon = LiveDaemon.start(db, socket);
        // The newest stored row is wget's at t-5. A source that still holds it (it was stored
        // and is live at the same time) must not make the view count it again.
        FlowRow wget = ViewDb.row(Instant.ofEpochSecond(t - 5), ViewDb.wget(), "10.0.0.1", 40002, "198.51.100.7", 80,
                "download.test", 300, 1_000_000);
        List<FlowRow> open = new ArrayList<>(openWindow());
        open.add(wget);
        daemon.open.set(open);
        Page exe = view(query(Dimension.EXE, TimeRange.ALL), DaemonFeed.at(socket));
        assertThat(exe.entries().getFirst()).extracting(Entry::label, Entry::sent, Entry::recv)
                .containsExactly("/usr/bin/wget", 400L, 1_000_200L);
        assertThat(exe.sent()).isEqualTo(ViewDb.SENT_ALL + 7 + 11);
        assertThat(exe.recv()).isEqualTo(ViewDb.RECV_ALL + 9 + 13);
        assertThat(exe.liveRows()).isEqualTo(2);
    }

    @Test
    void theDaemonIsNotAskedAboutThePast() throws Exception {
        daemon = LiveDaemon.start(db, socket);
        daemon.open.set(openWindow());
        ViewQuery hourBack = new ViewQuery(Dimension.EXE, List.of(), TimeRange.HOUR, 1, t + 1, ZoneId.systemDefault());
        Page p = view(hourBack, DaemonFeed.at(socket));
        assertSamePage(p, stored(db, hourBack));
        assertThat(p.liveRows()).isZero();
    }

    @Test
    void noDaemonMeansTheDatabaseAloneSilently() throws Exception {
        ViewQuery q = query(Dimension.EXE, TimeRange.ALL);
        Page alone = stored(db, q);
        // No socket file at all.
        Page p = view(q, DaemonFeed.at(socket));
        assertSamePage(p, alone);
        assertThat(p.liveRows()).isZero();
        assertThat(p.liveNote()).isNull();
        // A socket file left behind by a daemon that is gone: nobody listens.
        Files.createDirectories(socket.getParent());
        try (ServerSocketChannel gone = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            gone.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThat(socket).exists();
        p = view(q, DaemonFeed.at(socket));
        assertSamePage(p, alone);
        assertThat(p.liveNote()).isNull();
    }

    @Test
    void aDaemonErrorIsANoteAndTheDatabaseStillShows() throws Exception {
        try (Store store = Store.open(db);
             RpcServer server = RpcServer.start(socket, "", store, atPin -> {
                 throw new IllegalStateException("the capture is wedged");
             })) {
            ViewModel m = new ViewModel(Dimension.EXE, TimeRange.ALL, ByteUnits.B, ZoneId.systemDefault(),
                    () -> t + 1);
            ViewQuery q = m.nextRequest();
            Page p = view(q, DaemonFeed.at(socket));
            assertSamePage(p, stored(db, q));
            assertThat(p.liveRows()).isZero();
            assertThat(p.liveNote()).isEqualTo("daemon: the capture is wedged");
            m.accept(p);
            assertThat(m.error()).isNull();
            String status = statusLine(m);
            assertThat(status).contains("total " + (ViewDb.SENT_ALL + ViewDb.RECV_ALL) + " B",
                    "daemon: the capture is wedged");
        }
    }

    @Test
    void theStatusBarSaysHowManyLiveRowsAreIn() throws Exception {
        daemon = LiveDaemon.start(db, socket);
        daemon.open.set(openWindow());
        ViewModel m = new ViewModel(Dimension.EXE, TimeRange.ALL, ByteUnits.B, ZoneId.systemDefault(),
                () -> t + 1);
        ViewQuery q = m.nextRequest();
        m.accept(view(q, DaemonFeed.at(socket)));
        assertThat(statusLine(m)).contains("sent " + (ViewDb.SENT_ALL + 18) + " B", "+2 live rows");
        // The same view of the past has no marker.
        Page past = view(new ViewQuery(Dimension.EXE, List.of(), TimeRange.HOUR, 1, t + 1, ZoneId.systemDefault()),
                DaemonFeed.at(socket));
        assertThat(past.liveRows()).isZero();
    }

    @Test
    void aNewerRequestInterruptsADaemonThatDoesNotAnswer() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch asked = new CountDownLatch(1);
        boolean[] first = {true};
        try (Store store = Store.open(db);
             RpcServer server = RpcServer.start(socket, "", store, atPin -> {
                 boolean stall;
                 synchronized (first) {
                     stall = first[0];
                     first[0] = false;
                 }
                 atPin.run();
                 if (stall) {
                     asked.countDown();
                     try {
                         release.await(60, TimeUnit.SECONDS);
                     } catch (InterruptedException e) {
                         Thread.currentThread().interrupt();
                     }
                 }
                 return openWindow();
             })) {
            LinkedBlockingQueue<Loader.Result> results = new LinkedBlockingQueue<>();
            try (Loader loader = new Loader(Reader.open(db), Annotator.NONE, DaemonFeed.at(socket), results::add)) {
                loader.submit(1, query(Dimension.EXE, TimeRange.ALL));
                assertThat(asked.await(30, TimeUnit.SECONDS)).isTrue();
                long start = System.nanoTime();
                loader.submit(2, query(Dimension.USER, TimeRange.ALL));
                Loader.Result r = results.poll(30, TimeUnit.SECONDS);
                assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20));
                assertThat(r).isInstanceOf(Loader.Loaded.class);
                assertThat(r.seq()).isEqualTo(2);
                Page p = ((Loader.Loaded) r).page();
                assertThat(p.liveRows()).isEqualTo(2);
                assertThat(p.entries()).extracting(Entry::label).contains("carol (2000)");
                assertThat(results.poll(1, TimeUnit.SECONDS)).isNull();
            } finally {
                release.countDown();
            }
        }
    }

    private static String statusLine(ViewModel m) {
        Screen s = new Screen(Styles.of(Styles.Palette.MONO), Text.Glyphs.ASCII);
        var lines = s.render(m, 24, 160);
        return lines.getLast().toString();
    }
}

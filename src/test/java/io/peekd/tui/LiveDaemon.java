package io.peekd.tui;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import io.peekd.flow.FlowRow;
import io.peekd.rpc.RpcServer;
import io.peekd.store.Store;

/**
 * The daemon's side, for real: its store on the view's database file and its RPC server on a
 * socket, answering from a {@link RpcServer.LiveRows} the test fills with rows that are not
 * in the file. {@link #closing} is a window that closes while a query runs: it is committed
 * right before the daemon pins its snapshot, as the drain thread would have stored it, so the
 * view's earlier snapshot cannot hold it.
 */
final class LiveDaemon implements AutoCloseable {

    final Store store;
    final RpcServer server;
    final AtomicReference<List<FlowRow>> open = new AtomicReference<>(List.of());
    final AtomicReference<List<FlowRow>> closing = new AtomicReference<>(List.of());

    private LiveDaemon(Store store, RpcServer server) {
        this.store = store;
        this.server = server;
    }

    static LiveDaemon start(Path db, Path socket) throws Exception {
        LiveDaemon[] self = new LiveDaemon[1];
        Store store = Store.open(db);
        try {
            RpcServer server = RpcServer.start(socket, "", store, atPin -> self[0].pinned(atPin));
            self[0] = new LiveDaemon(store, server);
            return self[0];
        } catch (Exception | Error e) {
            store.close();
            throw e;
        }
    }

    private synchronized List<FlowRow> pinned(Runnable atPin) {
        List<FlowRow> closed = closing.getAndSet(List.of());
        if (!closed.isEmpty()) {
            assertThat(store.writer().submit(closed)).isTrue();
        }
        // The RPC server flushes the writer here, then takes its snapshot.
        atPin.run();
        return open.get();
    }

    /** Stores rows now, as the daemon's writer would have. */
    void write(List<FlowRow> rows) throws InterruptedException {
        assertThat(store.writer().submit(rows)).isTrue();
        assertThat(store.writer().flush(Duration.ofSeconds(60))).isTrue();
    }

    @Override
    public void close() {
        server.close();
        store.close();
    }
}

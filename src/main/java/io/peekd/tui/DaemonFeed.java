package io.peekd.tui;

import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;

import io.peekd.rpc.RpcClient;
import io.peekd.store.Query;

/**
 * The daemon's socket as the view uses it: the rows its database snapshot cannot have yet.
 *
 * <p>The daemon stores each window in one transaction, in time order. So once the view's
 * snapshot holds windows up to {@code newestStored}, the rest is everything from
 * {@code newestStored + 1} on, and that is what the daemon's query gives: the rows it has
 * committed since (its own snapshot is pinned with the open window, so a window closing
 * meanwhile is counted once) plus the windows it holds. A window whose start is not after
 * the newest stored row (the daemon restarted within a window, or the clock went back) only
 * shows once it is written.
 */
public final class DaemonFeed {

    private final Path socket;

    private DaemonFeed(Path socket) {
        this.socket = socket;
    }

    /** The daemon answering on {@code socket}, if any; one connection per question. */
    public static DaemonFeed at(Path socket) {
        return new DaemonFeed(socket);
    }

    /**
     * The rows that start after {@code newestStored} (null: the snapshot was empty) and at or
     * after {@code since} (null: all time). No daemon gives none, silently: the database is
     * then all there is. Any other failure is a note, for the status bar.
     *
     * @throws CancellationException when the calling thread was interrupted (a newer request)
     */
    Live after(Long newestStored, Long since) {
        Long from = newestStored == null ? since : since == null ? newestStored + 1 : Math.max(newestStored + 1, since);
        try {
            Optional<RpcClient> c = RpcClient.connect(socket);
            if (c.isEmpty()) {
                return Live.NONE;
            }
            RpcClient.Rows got = c.get().query(new Query(from == null ? null : Instant.ofEpochSecond(from), null, null,
                    null, 0), false);
            String note = got.incomplete();
            if (!got.seesAll()) {
                note = (note == null ? "" : note + "; ") + "the daemon adds your own processes only";
            }
            return new Live(got.rows(), note);
        } catch (RpcClient.NoDaemon e) {
            interrupted();
            return Live.NONE;
        } catch (RpcClient.Failed e) {
            interrupted();
            return new Live(List.of(), "daemon: " + e.getMessage());
        } catch (RuntimeException e) {
            // An answer this peekd cannot read (another version?) must not take the database's rows with it.
            interrupted();
            return new Live(List.of(), "daemon: unreadable answer: " + e);
        }
    }

    /** An interrupt closes the socket mid-call; that is a cancelled request, not a failure to show. */
    private static void interrupted() {
        if (Thread.currentThread().isInterrupted()) {
            throw new CancellationException("superseded");
        }
    }
}

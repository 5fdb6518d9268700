package io.peekd.tui;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.CancellationException;
import java.util.function.Consumer;

import io.peekd.store.Reader;
import io.peekd.store.StoreException;

/**
 * Runs the view's queries on a thread of their own, one at a time, so that a slow
 * aggregate over a large history never blocks keys or drawing. Only the newest request
 * matters: a new one cancels the query in flight (SQLite's interrupt), and one that is
 * superseded before it starts is skipped. Results go to {@code sink} tagged with the
 * request's sequence number, so the screen can drop answers it no longer wants.
 *
 * <p>While the present is shown, each query also asks the daemon for the rows its snapshot
 * does not hold yet ({@link DaemonFeed}); a newer request interrupts that call too.
 */
final class Loader implements AutoCloseable {

    /** What the query thread reports. */
    sealed interface Result permits Loaded, Failed {
        long seq();
    }

    record Loaded(long seq, Page page) implements Result {
    }

    record Failed(long seq, ViewQuery query, String message) implements Result {
    }

    private record Request(long seq, ViewQuery query) {
    }

    private final Reader reader;
    private final Annotator annotator;
    private final DaemonFeed daemon;
    private final Consumer<Result> sink;
    private final Thread thread;
    private final Object lock = new Object();
    private Request pending;
    private long runningSeq = -1;
    private PreparedStatement running;
    private boolean askingDaemon;
    private boolean closed;

    Loader(Reader reader, Annotator annotator, Consumer<Result> sink) {
        this(reader, annotator, null, sink);
    }

    /** @param daemon where rows not stored yet come from; null for the database alone */
    Loader(Reader reader, Annotator annotator, DaemonFeed daemon, Consumer<Result> sink) {
        this.reader = reader;
        this.annotator = annotator;
        this.daemon = daemon;
        this.sink = sink;
        // A platform thread: a long SQLite step is native code and would pin a virtual one anyway.
        this.thread = Thread.ofPlatform().name("peekd-view-query").daemon(true).unstarted(this::loop);
        thread.start();
    }

    /** Asks for {@code q}; any earlier request still waiting or running is abandoned. */
    void submit(long seq, ViewQuery q) {
        synchronized (lock) {
            if (closed) {
                return;
            }
            pending = new Request(seq, q);
            cancelRunning();
            lock.notifyAll();
        }
    }

    boolean busy() {
        synchronized (lock) {
            return pending != null || runningSeq >= 0;
        }
    }

    private void loop() {
        try {
            while (true) {
                Request r;
                synchronized (lock) {
                    while (pending == null && !closed) {
                        lock.wait();
                    }
                    if (closed) {
                        break;
                    }
                    r = pending;
                    pending = null;
                    runningSeq = r.seq();
                }
                Result result = run(r);
                synchronized (lock) {
                    runningSeq = -1;
                    running = null;
                    // A cancelled query's error is noise: a newer request is already waiting.
                    if (closed || (pending != null && result instanceof Failed)) {
                        continue;
                    }
                }
                sink.accept(result);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            try {
                reader.close();
            } catch (RuntimeException e) {
                // the view is going away; nothing is left to tell
            }
        }
    }

    private Result run(Request r) {
        try {
            Live.Source live = daemon == null ? null : this::askDaemon;
            Page p = reader.readChecked(c -> r.query().run(c, this::started, annotator, live));
            return new Loaded(r.seq(), p);
        } catch (SQLException e) {
            return new Failed(r.seq(), r.query(), "query failed: " + e.getMessage());
        } catch (StoreException e) {
            return new Failed(r.seq(), r.query(), e.getMessage());
        } catch (CancellationException e) {
            return new Failed(r.seq(), r.query(), "cancelled");
        } catch (RuntimeException | LinkageError | OutOfMemoryError | StackOverflowError e) {
            // Said on screen instead of silently killing this thread and leaving "loading" forever.
            return new Failed(r.seq(), r.query(), "query failed: " + e);
        }
    }

    private void started(PreparedStatement ps) {
        synchronized (lock) {
            if (pending != null || closed) {
                // Superseded between two statements: SQLite's interrupt would not reach a
                // statement that has not started yet, so stop here instead.
                throw new CancellationException("superseded");
            }
            running = ps;
        }
    }

    private Live askDaemon(Long newestStored, Long since) {
        synchronized (lock) {
            if (pending != null || closed) {
                throw new CancellationException("superseded");
            }
            askingDaemon = true;
        }
        try {
            return daemon.after(newestStored, since);
        } finally {
            synchronized (lock) {
                askingDaemon = false;
                // An interrupt meant for the socket must not reach the SQL that follows.
                Thread.interrupted();
            }
        }
    }

    /** Called with {@link #lock} held. */
    private void cancelRunning() {
        if (askingDaemon) {
            // The socket is an interruptible channel: this closes it and ends the call.
            thread.interrupt();
        }
        if (running != null) {
            try {
                running.cancel();
            } catch (SQLException e) {
                // already finished or closed: nothing to interrupt
            }
        }
    }

    /**
     * Stops without waiting: a query in flight is interrupted and the reader is closed by the
     * query thread once it returns, so quitting in the middle of a slow query is immediate.
     */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            pending = null;
            cancelRunning();
            lock.notifyAll();
        }
    }
}

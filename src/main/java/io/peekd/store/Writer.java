package io.peekd.store;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;

import io.peekd.flow.FlowRow;

/**
 * The one writer of a database: a platform thread that stores submitted batches in order,
 * one transaction per batch. A batch that cannot be committed (disk full, I/O error,
 * database locked) stays in memory and is retried with backoff; later batches wait behind
 * it, so accounted bytes are never dropped while the process lives.
 */
public final class Writer {

    private static final System.Logger LOG = System.getLogger(Writer.class.getName());
    /** While a failure persists, repeat the error this often so that it is not lost in the log. */
    private static final Duration REMINDER = Duration.ofMinutes(10);

    /** Work for the writer thread, done strictly in submission order. */
    private sealed interface Job {
        long seq();
    }

    private record Batch(long seq, List<FlowRow> rows) implements Job {
    }

    private record Prune(long seq, Instant cutoff, CompletableFuture<Long> result) implements Job {
    }

    private record Custom(long seq, String what, Task<?> task, CompletableFuture<Object> result) implements Job {
    }

    /**
     * Maintenance work on the write connection (retention, checkpoint, outbox acknowledgements),
     * run on the writer thread between batches. The connection is in auto-commit mode; a task
     * that writes begins and commits its own transaction and keeps it short, because batches
     * wait behind it.
     */
    @FunctionalInterface
    public interface Task<T> {
        T run(Connection c) throws SQLException;
    }

    /** A fired alert, or the result of its actions (an update of the same ref). */
    private record Alert(long seq, AlertRecord record, boolean update) implements Job {
    }

    private final Path file;
    private final Store.Options options;
    private final BlockingQueue<Job> queue;
    private final Thread thread;
    private final ReentrantLock submitLock = new ReentrantLock();

    private final Object progress = new Object();
    private long submittedSeq; // guarded by progress
    private long committedSeq; // guarded by progress

    private volatile boolean closed;
    private volatile boolean abandon;
    private volatile Job inFlight;
    private volatile Throwable died;

    private final AtomicLong batchesWritten = new AtomicLong();
    private final AtomicLong rowsWritten = new AtomicLong();
    private final AtomicInteger pendingBatches = new AtomicInteger();
    private final AtomicLong pendingRows = new AtomicLong();
    private final AtomicLong failedAttempts = new AtomicLong();
    private final AtomicLong rejected = new AtomicLong();
    private volatile long consecutiveFailures;
    private volatile Duration lastLatency;
    private volatile String lastError;
    private volatile Instant lastErrorAt;

    // Writer thread only.
    private BatchSql sql;
    private String lastLogged;
    private long lastLoggedNanos;
    private long streakStartNanos;

    Writer(Path file, Connection migrated, Store.Options options) throws SQLException {
        this.file = file;
        this.options = options;
        this.queue = new ArrayBlockingQueue<>(options.queueCapacity());
        this.sql = new BatchSql(migrated);
        this.thread = Thread.ofPlatform().name("peekd-store-writer").daemon(true).unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    /**
     * Hands a window's rows to the writer. Returns at once unless the queue is full, and then
     * waits at most {@code submitTimeout}. The list is copied; the caller may reuse it.
     *
     * @return true when the batch was taken; false when the queue stayed full (or the
     *         caller was interrupted): the batch was NOT taken, so keep it and submit again
     * @throws IllegalArgumentException when a row is unusable (no time, no identity, a
     *         negative counter); nothing of the batch was taken
     * @throws IllegalStateException after the store was closed
     */
    public boolean submit(List<FlowRow> batch) {
        Objects.requireNonNull(batch, "batch");
        validate(batch);
        if (batch.isEmpty()) {
            return true;
        }
        List<FlowRow> rows = List.copyOf(batch);
        if (!enqueue(seq -> new Batch(seq, rows), rows.size())) {
            LOG.log(System.Logger.Level.ERROR, String.format("store queue for %s is full (%d batches waiting,"
                    + " last error: %s); batch of %d rows handed back to the caller",
                    file, pendingBatches.get(), lastError, rows.size()));
            return false;
        }
        return true;
    }

    /**
     * Deletes the rows of windows that started before {@code cutoff} (retention), then the
     * identities and executables no remaining row refers to. It runs on the writer thread,
     * after every batch submitted before it, so it never races a commit.
     *
     * @return the number of flow rows deleted; fails with {@link StoreException} when the
     *         queue stayed full or the store closed first
     * @throws IllegalStateException after the store was closed
     */
    public CompletableFuture<Long> prune(Instant cutoff) {
        Objects.requireNonNull(cutoff, "cutoff");
        CompletableFuture<Long> result = new CompletableFuture<>();
        if (!enqueue(seq -> new Prune(seq, cutoff, result), 0)) {
            result.completeExceptionally(new StoreException("store queue for " + file + " is full; prune later"));
        }
        return result;
    }

    /**
     * Runs {@code task} on the writer thread after every job submitted before it. Unlike a
     * batch it is tried once: a failure completes the future exceptionally (an open
     * transaction is rolled back) and the writer goes on with the next job.
     *
     * @param what names the task in log messages
     * @throws IllegalStateException after the store was closed
     */
    @SuppressWarnings("unchecked")
    public <T> CompletableFuture<T> task(String what, Task<T> task) {
        Objects.requireNonNull(task, "task");
        CompletableFuture<Object> result = new CompletableFuture<>();
        if (!enqueue(seq -> new Custom(seq, what, task, result), 0)) {
            result.completeExceptionally(new StoreException("store queue for " + file + " is full; " + what + " later"));
        }
        return (CompletableFuture<T>) result;
    }

    /**
     * Queues a fired alert for the alert log. Never waits: alerts must not stall behind a
     * failing disk, so when the queue is full the record is not taken (false) and the caller
     * counts it as lost.
     *
     * @throws IllegalStateException after the store was closed
     */
    public boolean submitAlert(AlertRecord record) {
        Objects.requireNonNull(record, "record");
        return enqueue(seq -> new Alert(seq, record, false), 0, 0);
    }

    /** Stores the result of an alert's actions ({@code result}, {@code detail}, {@code finished} of the record). */
    public boolean submitAlertResult(AlertRecord record) {
        Objects.requireNonNull(record, "record");
        return enqueue(seq -> new Alert(seq, record, true), 0, 0);
    }

    /** Queues a job in submission order. False when the queue stayed full for submitTimeout. */
    private boolean enqueue(LongFunction<Job> job, int rows) {
        return enqueue(job, rows, options.submitTimeout().toNanos());
    }

    private boolean enqueue(LongFunction<Job> job, int rows, long timeoutNanos) {
        submitLock.lock();
        try {
            if (closed || died != null) {
                throw new IllegalStateException("store " + file + (closed ? " is closed" : " writer has died: " + died)
                        + "; nothing more is taken");
            }
            long seq;
            synchronized (progress) {
                seq = submittedSeq + 1;
            }
            boolean batch = rows > 0;
            if (batch) {
                pendingBatches.incrementAndGet();
                pendingRows.addAndGet(rows);
            }
            boolean taken;
            try {
                taken = queue.offer(job.apply(seq), timeoutNanos, TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                taken = false;
            }
            if (!taken) {
                if (batch) {
                    pendingBatches.decrementAndGet();
                    pendingRows.addAndGet(-rows);
                    rejected.incrementAndGet();
                }
                return false;
            }
            synchronized (progress) {
                submittedSeq = seq;
            }
            return true;
        } finally {
            submitLock.unlock();
        }
    }

    /**
     * Waits until every batch submitted before this call is committed, for as long as that
     * takes: while the disk stays full, that is forever. Shutdown should use
     * {@link Store#close()}, which waits a bounded time and then reports what is lost.
     */
    public void flush() throws InterruptedException {
        flush(null);
    }

    /**
     * Waits at most {@code timeout} (null: no limit) until every batch submitted before this
     * call is committed.
     *
     * @return false when the time ran out first (see {@link #stats()} for why)
     * @throws IllegalStateException when the writer thread died and nothing can be committed
     */
    public boolean flush(Duration timeout) throws InterruptedException {
        long deadline = timeout == null ? Long.MAX_VALUE : System.nanoTime() + timeout.toNanos();
        synchronized (progress) {
            long target = submittedSeq;
            while (committedSeq < target) {
                if (died != null || !thread.isAlive()) {
                    throw new IllegalStateException("store writer for " + file + " has stopped"
                            + (died != null ? ": " + died : "") + "; " + (target - committedSeq)
                            + " batches are not stored");
                }
                long left = timeout == null ? TimeUnit.SECONDS.toNanos(1) : deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                // Bounded waits, so a thread that dies without notifying is still noticed.
                progress.wait(Math.max(1, Math.min(1000, TimeUnit.NANOSECONDS.toMillis(left))));
            }
            return true;
        }
    }

    public WriterStats stats() {
        return new WriterStats(batchesWritten.get(), rowsWritten.get(), pendingBatches.get(), pendingRows.get(),
                lastLatency, failedAttempts.get(), consecutiveFailures, lastError, lastErrorAt, rejected.get());
    }

    /** Stops taking batches, waits up to {@code timeout} for the queue to drain, then stops the thread. */
    void close(Duration timeout) {
        submitLock.lock();
        try {
            closed = true;
        } finally {
            submitLock.unlock();
        }
        boolean flushed;
        try {
            flushed = flush(timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            flushed = false;
        } catch (IllegalStateException e) {
            flushed = false;
        }
        abandon = true;
        thread.interrupt();
        try {
            // A statement in progress may wait for the busy timeout before it notices.
            thread.join(options.busyTimeout().plusSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!flushed) {
            reportLoss();
        }
    }

    private void reportLoss() {
        List<Job> left = new ArrayList<>();
        Job current = inFlight;
        if (current != null) {
            left.add(current);
        }
        queue.drainTo(left);
        long batches = 0, rows = 0, sent = 0, recv = 0;
        for (Job j : left) {
            switch (j) {
                case Batch b -> {
                    batches++;
                    rows += b.rows().size();
                    for (FlowRow r : b.rows()) {
                        sent += r.sent();
                        recv += r.recv();
                    }
                }
                case Prune p -> p.result().completeExceptionally(
                        new StoreException("store " + file + " closed before pruning"));
                case Custom t -> t.result().completeExceptionally(
                        new StoreException("store " + file + " closed before " + t.what()));
                case Alert a -> LOG.log(System.Logger.Level.ERROR, "closing " + file + " without storing alert "
                        + a.record().ref() + " of rule " + a.record().rule());
            }
        }
        if (batches > 0) {
            LOG.log(System.Logger.Level.ERROR, String.format("closing %s with %d batches not stored (%d rows,"
                    + " %d bytes sent, %d bytes received are lost); last error: %s",
                    file, batches, rows, sent, recv, lastError));
        }
    }

    private void run() {
        try {
            while (true) {
                Job job;
                try {
                    job = queue.take();
                } catch (InterruptedException e) {
                    if (abandon) {
                        return;
                    }
                    continue;
                }
                inFlight = job;
                if (!untilDone(job)) {
                    return;
                }
                inFlight = null;
                if (job instanceof Batch b) {
                    pendingBatches.decrementAndGet();
                    pendingRows.addAndGet(-b.rows().size());
                }
                synchronized (progress) {
                    committedSeq = job.seq();
                    progress.notifyAll();
                }
            }
        } catch (Throwable t) {
            died = t;
            LOG.log(System.Logger.Level.ERROR, "store writer for " + file + " died; nothing more will be stored", t);
            synchronized (progress) {
                progress.notifyAll();
            }
        } finally {
            closeSql();
        }
    }

    /** Retries one job until it is committed. Returns false only when the store is being abandoned. */
    private boolean untilDone(Job job) {
        long backoff = options.minBackoff().toNanos();
        while (true) {
            long t0 = System.nanoTime();
            try {
                if (sql == null) {
                    sql = reconnect();
                }
                switch (job) {
                    case Batch b -> {
                        sql.write(b.rows());
                        lastLatency = Duration.ofNanos(System.nanoTime() - t0);
                        batchesWritten.incrementAndGet();
                        rowsWritten.addAndGet(b.rows().size());
                    }
                    case Prune p -> {
                        long deleted = sql.prune(p.cutoff());
                        LOG.log(System.Logger.Level.INFO, String.format("pruned %d rows older than %s from %s in %d ms",
                                deleted, p.cutoff(), file, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0)));
                        p.result().complete(deleted);
                    }
                    case Custom t -> runTask(t);
                    case Alert a -> {
                        if (a.update()) sql.finishAlert(a.record());
                        else sql.insertAlert(a.record());
                    }
                }
                recovered();
                return true;
            } catch (SQLException | RuntimeException e) {
                failed(e, job);
                // Start the retry from a fresh connection: after SQLITE_FULL the driver's prepared
                // statements were seen stuck ("statement is not executing") on every later attempt.
                // Closing also rolls back whatever the failed transaction left.
                closeSql();
            }
            if (abandon) {
                return false;
            }
            try {
                TimeUnit.NANOSECONDS.sleep(backoff);
            } catch (InterruptedException e) {
                if (abandon) {
                    return false;
                }
            }
            backoff = Math.min(backoff * 2, options.maxBackoff().toNanos());
        }
    }

    /** Runs a task once; its failure is its caller's to handle, the writer carries on. */
    private void runTask(Custom t) {
        try {
            t.result().complete(t.task().run(sql.connection()));
        } catch (SQLException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, t.what() + " on " + file + " failed: " + Sqlite.describe(e));
            t.result().completeExceptionally(e instanceof StoreException ? e
                    : new StoreException(t.what() + " on " + file + " failed: " + Sqlite.describe(e), e));
        } finally {
            // A task may have deleted rows whose ids are cached, or left a transaction open.
            try {
                sql.afterTask();
            } catch (SQLException e) {
                closeSql(); // the next job reconnects
            }
        }
    }

    private BatchSql reconnect() throws SQLException {
        Connection c = Sqlite.openWriter(file, options.busyTimeout());
        try {
            // The file may have been replaced underneath us; give the new one the schema.
            Schema.migrate(c, file);
            return new BatchSql(c);
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    private void failed(Exception e, Job job) {
        String msg = Sqlite.describe(e);
        long now = System.nanoTime();
        failedAttempts.incrementAndGet();
        if (consecutiveFailures == 0) {
            streakStartNanos = now;
        }
        consecutiveFailures++;
        lastError = msg;
        lastErrorAt = Instant.now();
        if (consecutiveFailures == 1 || !msg.equals(lastLogged) || now - lastLoggedNanos > REMINDER.toNanos()) {
            lastLogged = msg;
            lastLoggedNanos = now;
            String what = switch (job) {
                case Batch b -> "store a batch of " + b.rows().size() + " rows";
                case Prune p -> "prune rows older than " + p.cutoff();
                case Custom t -> t.what();
                case Alert a -> "store alert " + a.record().ref() + " of rule " + a.record().rule();
            };
            LOG.log(System.Logger.Level.ERROR, String.format("%s %s in %s: %s."
                    + " Nothing is lost yet: it stays in memory and is retried with backoff"
                    + " (attempt %d; %d batches, %d rows waiting)",
                    consecutiveFailures == 1 ? "cannot" : "still cannot", what, file, msg,
                    consecutiveFailures, pendingBatches.get(), pendingRows.get()));
            LOG.log(System.Logger.Level.DEBUG, "store failure detail", e);
        }
    }

    private void recovered() {
        if (consecutiveFailures > 0) {
            LOG.log(System.Logger.Level.INFO, String.format("stored in %s again after %d failed attempts over %.1f s;"
                    + " %d more batches waiting", file, consecutiveFailures,
                    (System.nanoTime() - streakStartNanos) / 1e9, pendingBatches.get() - 1));
            consecutiveFailures = 0;
        }
    }

    private void closeSql() {
        if (sql != null) {
            try {
                sql.close();
            } catch (SQLException e) {
                LOG.log(System.Logger.Level.WARNING, "closing " + file + ": " + Sqlite.describe(e));
            }
            sql = null;
        }
    }

    private static void validate(List<FlowRow> batch) {
        for (int i = 0; i < batch.size(); i++) {
            FlowRow r = batch.get(i);
            String problem = r == null ? "is null"
                    : r.time() == null ? "has no time (window start)"
                    : r.id() == null ? "has no identity"
                    : r.sent() < 0 || r.recv() < 0 || r.conns() < 0 ? "has a negative counter"
                    : null;
            if (problem != null) {
                throw new IllegalArgumentException("batch not taken: row " + i + " of " + batch.size() + " "
                        + problem + ": " + r);
            }
        }
    }
}

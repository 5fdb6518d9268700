package io.peekd.flow;

import io.peekd.capture.KernelEvent;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Fans events and batches out to subscribers, each on its own platform thread
 * with a bounded queue. Publishing never blocks: a full queue drops the item
 * for that subscriber and counts it.
 */
public final class Broadcast implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd.broadcast");
    private final int capacity;
    private final List<Lane> lanes = new CopyOnWriteArrayList<>();

    private sealed interface Item {
        record Event(KernelEvent e) implements Item {}
        record Batch(Instant window, List<FlowRow> rows) implements Item {}
        record Note(Notice n) implements Item {}
        record Stop() implements Item {}
    }

    private final class Lane {
        final Subscriber sub;
        final BlockingQueue<Item> queue = new ArrayBlockingQueue<>(capacity);
        final AtomicLong dropped = new AtomicLong(), failed = new AtomicLong();
        final Thread thread;

        Lane(Subscriber sub) {
            this.sub = sub;
            this.thread = Thread.ofPlatform().daemon().name("peekd-sub-" + sub.name()).unstarted(this::run);
        }

        void offer(Item item) {
            if (!queue.offer(item)) dropped.incrementAndGet();
        }

        private void run() {
            while (true) {
                Item item;
                try {
                    item = queue.take();
                } catch (InterruptedException e) {
                    return;
                }
                try {
                    switch (item) {
                        case Item.Event ev -> sub.onEvent(ev.e());
                        case Item.Batch b -> sub.onBatch(b.window(), b.rows());
                        case Item.Note n -> sub.onNotice(n.n());
                        case Item.Stop s -> {
                            return;
                        }
                    }
                } catch (RuntimeException e) {
                    if (failed.getAndIncrement() == 0)
                        LOG.log(System.Logger.Level.ERROR, "subscriber " + sub.name() + " failed: " + e, e);
                }
            }
        }
    }

    public Broadcast(int capacity) {
        this.capacity = Math.max(1, capacity);
    }

    public void subscribe(Subscriber s) {
        Lane lane = new Lane(s);
        lanes.add(lane);
        lane.thread.start();
    }

    public void publish(KernelEvent e) {
        for (Lane l : lanes) l.offer(new Item.Event(e));
    }

    public void publish(Instant window, List<FlowRow> rows) {
        List<FlowRow> copy = List.copyOf(rows);
        for (Lane l : lanes) l.offer(new Item.Batch(window, copy));
    }

    public void publish(Notice n) {
        for (Lane l : lanes) l.offer(new Item.Note(n));
    }

    /** Items each subscriber missed because its queue was full, and handler failures. */
    public Map<String, long[]> counters() {
        Map<String, long[]> out = new ConcurrentHashMap<>();
        for (Lane l : lanes) out.put(l.sub.name(), new long[] {l.dropped.get(), l.failed.get(), l.queue.size()});
        return out;
    }

    /**
     * Lets the subscribers finish what is queued, all within one second in
     * total (the whole daemon stop must fit in systemd's 5 s), then closes them;
     * a subscriber stuck in a call (an unreachable bus, a slow server) is left
     * behind rather than waited for.
     */
    @Override
    public void close() {
        for (Lane l : lanes) {
            if (!l.queue.offer(new Item.Stop())) l.thread.interrupt();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
        for (Lane l : lanes) {
            try {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left > 0) l.thread.join(left);
                if (l.thread.isAlive()) l.thread.interrupt();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            try {
                l.sub.close();
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "closing subscriber " + l.sub.name() + ": " + e);
            }
        }
        lanes.clear();
    }
}

package io.peekd.domain;

import java.net.InetAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * PTR lookups as a last resort: asynchronous, bounded in concurrency and
 * cache size, with a timeout, and never on the capture path. {@link #cached}
 * answers from the cache and starts a lookup on a miss; the answer is used by
 * later windows.
 */
public final class ReverseLookup implements AutoCloseable {
    private static final int MAX = 16384;
    private final Duration timeout;
    private final Semaphore inFlight = new Semaphore(4);
    private final ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor();
    private final Map<InetAddress, Optional<String>> cache = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, Optional<String>> e) {
            return size() > MAX;
        }
    };

    public ReverseLookup(Duration timeout) {
        this.timeout = timeout;
    }

    public synchronized Optional<String> cached(InetAddress a) {
        Optional<String> hit = cache.get(a);
        if (hit != null) return hit;
        if (inFlight.tryAcquire()) {
            cache.put(a, Optional.empty()); // one lookup per address, even while it runs
            pool.submit(() -> {
                try {
                    Optional<String> name = lookup(a);
                    synchronized (this) {
                        cache.put(a, name);
                    }
                } finally {
                    inFlight.release();
                }
            });
        }
        return Optional.empty();
    }

    private Optional<String> lookup(InetAddress a) {
        var f = java.util.concurrent.CompletableFuture.supplyAsync(a::getCanonicalHostName, pool);
        try {
            String n = f.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            // The JDK returns the literal address when there is no PTR record.
            if (n == null || n.equals(a.getHostAddress())) return Optional.empty();
            return DomainNames.normalize(n).parsed();
        } catch (Exception e) {
            f.cancel(true);
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}

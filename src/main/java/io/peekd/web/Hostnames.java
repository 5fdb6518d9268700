package io.peekd.web;

import io.peekd.domain.DomainNames;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Reverse DNS (PTR) names of remote addresses for the destination table and the connection
 * detail. The stored domain is what the process asked for (DNS, SNI...); the PTR name is what
 * the address's owner calls it, which is what tells a CDN or a cloud region apart, so the page
 * shows both.
 *
 * <p>Lookups never hold up a view: the page asks for the names of the rows it shows after it
 * has drawn them, a request waits at most {@link #WAIT} for lookups in flight, and at most
 * {@link #PARALLEL} run at once, each cut off after {@link #TIMEOUT}. Answers, including "no
 * name", are kept for {@link #TTL}, for up to {@link #MAX} addresses.
 */
final class Hostnames implements AutoCloseable {
    static final int MAX = 16_384;
    static final int PARALLEL = 8;
    static final Duration TIMEOUT = Duration.ofSeconds(3);
    static final Duration WAIT = Duration.ofMillis(1500);
    static final Duration TTL = Duration.ofHours(1);

    /** A finished lookup: the name, or empty when the address has none (or the lookup failed). */
    private record Entry(CompletableFuture<Optional<String>> name, long expiresNs) {
    }

    private final Function<InetAddress, Optional<String>> lookup;
    private final ExecutorService pool = Executors.newThreadPerTaskExecutor(
            Thread.ofVirtual().name("peekd-web-ptr-", 0).factory());
    private final Semaphore slots = new Semaphore(PARALLEL);
    private final Map<InetAddress, Entry> cache = new LinkedHashMap<>(256, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, Hostnames.Entry> e) {
            return size() > MAX;
        }
    };

    Hostnames(Function<InetAddress, Optional<String>> lookup) {
        this.lookup = lookup;
    }

    /** The system resolver (getnameinfo: /etc/hosts, then DNS), as the rest of peekd does it. */
    static Optional<String> system(InetAddress a) {
        String n = a.getCanonicalHostName();
        // The JDK gives back the literal when there is no PTR record (or it does not check out).
        if (n == null || n.equals(a.getHostAddress())) return Optional.empty();
        return DomainNames.normalize(n).parsed();
    }

    /**
     * Names of {@code addrs}: each address maps to its name or null (none); addresses whose
     * lookup is still running after the wait are left out, to be asked again.
     */
    Map<String, String> names(Collection<InetAddress> addrs) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        Map<InetAddress, CompletableFuture<Optional<String>>> pending = new LinkedHashMap<>();
        for (InetAddress a : addrs) pending.put(a, start(a));
        Map<String, String> out = new LinkedHashMap<>();
        for (var e : pending.entrySet()) {
            long left = deadline - System.nanoTime();
            try {
                Optional<String> n = left > 0 ? e.getValue().get(left, TimeUnit.NANOSECONDS) : e.getValue().getNow(null);
                if (n != null) out.put(e.getKey().getHostAddress(), n.orElse(null));
            } catch (java.util.concurrent.TimeoutException ignored) {
                // still running: the caller asks again
            } catch (InterruptedException ie) {
                Thread.currentThread().interrupt();
                break;
            } catch (java.util.concurrent.ExecutionException ignored) {
                out.put(e.getKey().getHostAddress(), null);
            }
        }
        return out;
    }

    private CompletableFuture<Optional<String>> start(InetAddress a) {
        long now = System.nanoTime();
        CompletableFuture<Optional<String>> f;
        synchronized (cache) {
            Entry hit = cache.get(a);
            if (hit != null && (!hit.name().isDone() || hit.expiresNs() - now > 0)) return hit.name();
            f = new CompletableFuture<>();
            cache.put(a, new Entry(f, now + TTL.toNanos()));
        }
        pool.submit(() -> {
            try {
                // Queue behind the lookups already running rather than flood the resolver.
                if (!slots.tryAcquire(TIMEOUT.toMillis() * 4, TimeUnit.MILLISECONDS)) {
                    forget(a, f);
                    f.complete(Optional.empty());
                    return;
                }
                // The slot is held until the resolver really returns (getnameinfo cannot be
                // interrupted), so a hanging resolver never has more than PARALLEL calls.
                CompletableFuture<Optional<String>> q = CompletableFuture.supplyAsync(() -> lookup.apply(a), pool);
                q.whenComplete((x, t) -> slots.release());
                f.complete(q.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
            } catch (Exception e) {
                // A resolver that hangs or fails: no name this time, tried again after the TTL.
                f.complete(Optional.empty());
            }
        });
        return f;
    }

    private void forget(InetAddress a, CompletableFuture<Optional<String>> f) {
        synchronized (cache) {
            Entry e = cache.get(a);
            if (e != null && e.name() == f) cache.remove(a);
        }
    }

    /** Parses the {@code addr} values of a request: IP literals only, never names (no forward lookups). */
    static List<InetAddress> parse(List<String> values) {
        if (values.size() > 500) throw new BadRequest("addr: at most 500 addresses");
        List<InetAddress> out = new ArrayList<>();
        for (String v : values) {
            try {
                out.add(InetAddress.ofLiteral(v.strip()));
            } catch (IllegalArgumentException e) {
                throw new BadRequest("addr: expected an IPv4 or IPv6 address, got \"" + v + "\"");
            }
        }
        return out;
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}

package io.peekd.alert;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Delivers webhook alerts: an HTTP POST of JSON, each attempt bounded by the rule's timeout,
 * retried with exponential backoff on network errors, timeouts, 5xx, 408 and 429. Sending is
 * asynchronous (no thread waits on a slow server), and at most {@code capacity} deliveries
 * are under way at once; beyond that an alert's webhook is dropped and reported.
 */
final class WebhookSender implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd.alerts");
    static final Duration MAX_BACKOFF = Duration.ofSeconds(60);

    /** Told about every attempt, for the log (and tests). */
    interface Attempts {
        void attempt(URI url, int number, String result);
    }

    /** Made on the first delivery: most daemons never send one, and a client costs a thread and TLS set-up. */
    private HttpClient client;
    private ScheduledExecutorService timer;
    private final int capacity;
    private final Duration firstBackoff;
    private final Attempts attempts;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final java.util.Set<CompletableFuture<Outcome>> pending = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    WebhookSender(int capacity, Duration firstBackoff, Attempts attempts) {
        this.capacity = capacity;
        this.firstBackoff = firstBackoff;
        this.attempts = attempts;
    }

    private synchronized HttpClient client() {
        if (client == null) {
            // Never follow redirects: a webhook answering 3xx gets no second, unchecked destination.
            client = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER)
                    .connectTimeout(Duration.ofSeconds(10)).build();
        }
        return client;
    }

    private synchronized ScheduledExecutorService timer() {
        // A retry due after close() is dropped (the caller says so), not given a new thread.
        if (closed) throw new java.util.concurrent.RejectedExecutionException("closed");
        if (timer == null) {
            timer = Executors.newSingleThreadScheduledExecutor(
                    Thread.ofPlatform().daemon().name("peekd-alert-webhook-timer").factory());
        }
        return timer;
    }

    int inFlight() {
        return inFlight.get();
    }

    CompletableFuture<Outcome> send(URI url, Map<String, String> headers, byte[] json, Duration timeout, int retries) {
        if (closed) return CompletableFuture.completedFuture(new Outcome("webhook", Outcome.Status.DROPPED, "daemon stopping"));
        if (inFlight.incrementAndGet() > capacity) {
            inFlight.decrementAndGet();
            return CompletableFuture.completedFuture(new Outcome("webhook", Outcome.Status.DROPPED,
                    capacity + " webhook deliveries already under way"));
        }
        HttpRequest.Builder b = HttpRequest.newBuilder(url).timeout(timeout)
                .header("Content-Type", "application/json")
                .header("User-Agent", "peekd")
                .POST(HttpRequest.BodyPublishers.ofByteArray(json));
        headers.forEach(b::header);
        HttpRequest request = b.build();
        CompletableFuture<Outcome> result = new CompletableFuture<>();
        pending.add(result);
        CompletableFuture<Outcome> done = result.whenComplete((o, e) -> {
            pending.remove(result);
            inFlight.decrementAndGet();
        });
        attempt(request, timeout, 1, retries + 1, firstBackoff, result);
        return done;
    }

    private void attempt(HttpRequest request, Duration timeout, int n, int max, Duration backoff,
                         CompletableFuture<Outcome> result) {
        if (closed) {
            result.complete(new Outcome("webhook", Outcome.Status.DROPPED, "daemon stopping after " + (n - 1) + " attempts"));
            return;
        }
        CompletableFuture<HttpResponse<Void>> call;
        try {
            call = client().sendAsync(request, HttpResponse.BodyHandlers.discarding());
        } catch (RuntimeException e) {
            result.complete(new Outcome("webhook", Outcome.Status.FAILED, e.getMessage()));
            return;
        }
        // The request timeout covers waiting for the response head; this also bounds the body.
        call.orTimeout(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS).whenComplete((resp, err) -> {
            String what;
            boolean retry;
            Outcome.Status status;
            if (err == null) {
                int code = resp.statusCode();
                what = "HTTP " + code;
                if (code >= 200 && code < 300) {
                    note(request.uri(), n, what);
                    result.complete(Outcome.ok("webhook", what + (n > 1 ? " after " + n + " attempts" : "")));
                    return;
                }
                retry = code >= 500 || code == 408 || code == 429;
                status = Outcome.Status.FAILED;
            } else {
                Throwable c = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                boolean timedOut = c instanceof HttpTimeoutException || c instanceof TimeoutException;
                what = timedOut ? "no answer within " + timeout.toSeconds() + " s"
                        : c instanceof IOException ? "network error: " + (c.getMessage() == null ? c.getClass().getSimpleName() : c.getMessage())
                        : c.toString();
                status = timedOut ? Outcome.Status.TIMEOUT : Outcome.Status.FAILED;
                retry = true;
                call.cancel(true);
            }
            note(request.uri(), n, what);
            if (!retry || n >= max) {
                result.complete(new Outcome("webhook", status, what + " (attempt " + n + " of " + max + ")"));
                return;
            }
            try {
                timer().schedule(() -> attempt(request, timeout, n + 1, max, next(backoff), result),
                        backoff.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RuntimeException e) {
                result.complete(new Outcome("webhook", Outcome.Status.DROPPED, "daemon stopping after " + n + " attempts"));
            }
        });
    }

    private static Duration next(Duration backoff) {
        Duration d = backoff.multipliedBy(2);
        return d.compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : d;
    }

    private void note(URI url, int n, String result) {
        LOG.log(System.Logger.Level.DEBUG, "webhook " + url + " attempt " + n + ": " + result);
        try {
            attempts.attempt(url, n, result);
        } catch (RuntimeException ignored) {
            // an observer must not break delivery
        }
    }

    @Override
    public void close() {
        closed = true;
        synchronized (this) {
            if (timer != null) timer.shutdownNow();
        }
        // Deliveries waiting for a retry would never finish now: say so in the alert log.
        for (CompletableFuture<Outcome> f : List.copyOf(pending))
            f.complete(new Outcome("webhook", Outcome.Status.DROPPED, "daemon stopped before the delivery succeeded"));
        synchronized (this) {
            if (client != null) client.shutdownNow();
        }
    }
}

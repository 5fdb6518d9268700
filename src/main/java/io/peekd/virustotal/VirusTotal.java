package io.peekd.virustotal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.peekd.bpf.NativeFile;
import io.peekd.bpf.SysError;
import io.peekd.config.Config;
import io.peekd.flow.Notice;
import io.peekd.identity.ExeState;
import io.peekd.identity.FileDigest;
import io.peekd.identity.FileId;
import io.peekd.identity.HashGate;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Asks VirusTotal (API v3) what it knows about each new executable hash.
 *
 * <p>Only the hash is sent, unless {@code virustotal.file_upload} is on and
 * VirusTotal does not know it (404): then the file is uploaded, after checking
 * that the path still holds the same device, inode and content (sha256) that
 * was seen running, and its analysis is polled until it completes. Requests
 * are spaced by {@code request_limit_seconds}; a 429 (quota) backs off; a
 * rejected key is reported once and stops lookups until peekd restarts.
 *
 * <p>Verdicts ({@code clean}, {@code suspicious}, {@code unknown},
 * {@code pending}, {@code error}) are kept with the hash in state.json, so
 * lookups and scans still pending survive a restart. A suspicious verdict is
 * written to the error log and sent to subscribers (desktop notification).
 *
 * <p>One platform thread does all the work; {@link #submit} never blocks.
 */
public final class VirusTotal implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd.virustotal");
    private static final ObjectMapper JSON = new ObjectMapper();
    static final long DIRECT_UPLOAD_MAX = 32L << 20, UPLOAD_MAX = 650L << 20;
    static final int MAX_ATTEMPTS = 5;

    /** What is left to do for a hash. */
    enum Step { LOOKUP, ANALYSIS }

    private record Job(String sha256, Step step, Instant due, long seq) implements Comparable<Job> {
        @Override
        public int compareTo(Job o) {
            int c = due.compareTo(o.due);
            return c != 0 ? c : Long.compare(seq, o.seq);
        }
    }

    private final Config.VirusTotal config;
    private final ExeState state;
    private final Consumer<String> errors;
    private final Consumer<Notice> notices;
    private final InstantSource clock;
    private final Duration spacing, quotaBackoff, analysisPoll;
    private final HttpClient http;
    private final PriorityQueue<Job> queue = new PriorityQueue<>();
    private final Set<String> queued = new HashSet<>();
    private final Thread worker;
    private long seq;
    private Instant nextRequest = Instant.EPOCH;
    private volatile boolean running = true;
    private volatile boolean keyRejected;
    private long requests;

    /**
     * @param errors  error-log lines (a rejected key, a hash given up on)
     * @param notices a suspicious verdict: for the error log and the desktop
     */
    public VirusTotal(Config.VirusTotal config, ExeState state, Consumer<String> errors, Consumer<Notice> notices) {
        this(config, state, errors, notices, InstantSource.system(), Duration.ofSeconds(config.requestLimitSeconds()),
                Duration.ofMinutes(5), Duration.ofMinutes(2));
    }

    VirusTotal(Config.VirusTotal config, ExeState state, Consumer<String> errors, Consumer<Notice> notices,
               InstantSource clock, Duration spacing, Duration quotaBackoff, Duration analysisPoll) {
        this.config = config;
        this.state = state;
        this.errors = errors;
        this.notices = notices;
        this.clock = clock;
        this.spacing = spacing;
        this.quotaBackoff = quotaBackoff;
        this.analysisPoll = analysisPoll;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(15))
                .followRedirects(HttpClient.Redirect.NORMAL).build();
        // What was pending when peekd last stopped.
        for (var e : state.pendingVerdicts()) {
            enqueue(e.getKey(), e.getValue().analysisId != null ? Step.ANALYSIS : Step.LOOKUP, clock.instant());
        }
        this.worker = Thread.ofPlatform().daemon().name("peekd-virustotal").unstarted(this::run);
        worker.start();
    }

    /** A new executable or new content was seen: look its hash up unless that was done already. */
    public void submit(HashGate.Sighting s) {
        String sha = s.hash().sha256();
        ExeState.Verdict v = state.verdict(sha);
        if (v != null && !"error".equals(v.verdict)) return; // known, or already pending
        v = v == null ? new ExeState.Verdict() : v;
        v.verdict = "pending";
        v.path = s.path();
        v.attempts = 0;
        v.error = null;
        FileId f = s.hash().file();
        v.devMajor = f.major();
        v.devMinor = f.minor();
        v.ino = f.ino();
        state.putVerdict(sha, v);
        enqueue(sha, Step.LOOKUP, clock.instant());
    }

    private synchronized void enqueue(String sha, Step step, Instant due) {
        if (!queued.add(sha)) return;
        queue.add(new Job(sha, step, due, seq++));
        notifyAll();
    }

    /** Lookups and scans not finished yet (metrics, tests). */
    public synchronized int pending() {
        return queue.size();
    }

    public synchronized long requests() {
        return requests;
    }

    // ---- worker ----

    private void run() {
        while (running) {
            Job job;
            synchronized (this) {
                try {
                    Instant now = clock.instant();
                    Job head = queue.peek();
                    if (head == null || keyRejected) {
                        wait(1000);
                        continue;
                    }
                    Instant ready = head.due().isAfter(nextRequest) ? head.due() : nextRequest;
                    if (ready.isAfter(now)) {
                        wait(Math.max(1, Math.min(1000, Duration.between(now, ready).toMillis())));
                        continue;
                    }
                    job = queue.poll();
                    queued.remove(job.sha256());
                } catch (InterruptedException e) {
                    return;
                }
            }
            try {
                handle(job);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "VirusTotal job for " + job.sha256() + " failed: " + e, e);
                retry(job, "internal error: " + e);
            }
        }
    }

    /** A request is made now: the next may go only after the configured spacing. */
    private void spend() {
        synchronized (this) {
            requests++;
            nextRequest = clock.instant().plus(spacing);
        }
    }

    private void handle(Job job) {
        ExeState.Verdict v = state.verdict(job.sha256());
        if (v == null || !"pending".equals(v.verdict)) return;
        switch (job.step()) {
            case LOOKUP -> lookup(job, v);
            case ANALYSIS -> analysis(job, v);
        }
    }

    private void lookup(Job job, ExeState.Verdict v) {
        HttpResponse<String> r = get("/api/v3/files/" + job.sha256(), job);
        if (r == null) return;
        switch (r.statusCode()) {
            case 200 -> {
                JsonNode stats = parse(r.body()).path("data").path("attributes").path("last_analysis_stats");
                if (stats.isMissingNode() || total(stats) == 0) {
                    // Known but not analysed yet (e.g. just uploaded by someone): ask again later.
                    enqueue(job.sha256(), Step.LOOKUP, clock.instant().plus(analysisPoll));
                    return;
                }
                finish(job.sha256(), v, stats);
            }
            case 404 -> {
                if (!config.fileUpload()) {
                    v.verdict = "unknown";
                    v.checked = now();
                    state.putVerdict(job.sha256(), v);
                    return;
                }
                upload(job, v);
            }
            default -> unexpected(job, r);
        }
    }

    private void analysis(Job job, ExeState.Verdict v) {
        HttpResponse<String> r = get("/api/v3/analyses/" + v.analysisId, job);
        if (r == null) return;
        if (r.statusCode() != 200) {
            unexpected(job, r);
            return;
        }
        JsonNode attrs = parse(r.body()).path("data").path("attributes");
        if (!"completed".equals(attrs.path("status").asText())) {
            enqueue(job.sha256(), Step.ANALYSIS, clock.instant().plus(analysisPoll));
            return;
        }
        finish(job.sha256(), v, attrs.path("stats"));
    }

    private static long total(JsonNode stats) {
        long t = 0;
        for (var it = stats.elements(); it.hasNext(); ) t += it.next().asLong();
        return t;
    }

    private void finish(String sha, ExeState.Verdict v, JsonNode stats) {
        v.malicious = stats.path("malicious").asInt();
        v.suspicious = stats.path("suspicious").asInt();
        v.harmless = stats.path("harmless").asInt();
        v.undetected = stats.path("undetected").asInt();
        v.verdict = v.malicious + v.suspicious > 0 ? "suspicious" : "clean";
        v.checked = now();
        v.analysisId = null;
        v.error = null;
        if ("suspicious".equals(v.verdict)) {
            String text = (v.path == null ? "an executable" : v.path) + " (sha256 " + sha + ") is flagged by VirusTotal: "
                    + v.malicious + " malicious, " + v.suspicious + " suspicious";
            notices.accept(new Notice(Notice.Severity.CRITICAL, "virustotal", v.path, text));
        }
        state.putVerdict(sha, v);
    }

    /**
     * Uploads the file for a scan, but only what was seen running: the path must
     * still hold the same inode with the same sha256.
     */
    private void upload(Job job, ExeState.Verdict v) {
        if (v.path == null) {
            fail(job.sha256(), v, "unknown to VirusTotal; no path to upload from");
            return;
        }
        // Held open from the check to the end of the upload: what is sent is that inode's content.
        NativeFile f;
        NativeFile.Stat before;
        try {
            f = NativeFile.open(Path.of(v.path));
        } catch (SysError e) {
            fail(job.sha256(), v, "not uploaded: cannot read " + v.path + ": " + e.getMessage());
            return;
        }
        try (f) {
            before = f.stat();
            if (v.ino != null && !new FileId(v.devMajor, v.devMinor, v.ino).is(before)) {
                fail(job.sha256(), v, "not uploaded: " + v.path + " is another file now");
                return;
            }
            if (before.size() > UPLOAD_MAX) {
                v.verdict = "unknown";
                v.error = "too large to upload (" + (before.size() >> 20) + " MiB)";
                v.checked = now();
                state.putVerdict(job.sha256(), v);
                return;
            }
            if (!FileDigest.sha256(f).equals(job.sha256())) {
                fail(job.sha256(), v, "not uploaded: " + v.path + " has changed since it ran");
                return;
            }
            String target = "/api/v3/files";
            if (before.size() > DIRECT_UPLOAD_MAX) {
                HttpResponse<String> u = get("/api/v3/files/upload_url", job);
                if (u == null) return;
                if (u.statusCode() != 200) {
                    unexpected(job, u);
                    return;
                }
                target = parse(u.body()).path("data").asText(null);
                if (target == null) {
                    retry(job, "no upload URL in the answer");
                    return;
                }
            }
            String boundary = "peekd-" + HexFormat.of().formatHex(new SecureRandom().generateSeed(12));
            String name = Path.of(v.path).getFileName().toString().replaceAll("[\"\\r\\n]", "_");
            byte[] head = ("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name
                    + "\"\r\nContent-Type: application/octet-stream\r\n\r\n").getBytes(StandardCharsets.UTF_8);
            byte[] tail = ("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8);
            HttpRequest req = request(target).timeout(Duration.ofMinutes(30))
                    .header("Content-Type", "multipart/form-data; boundary=" + boundary)
                    .POST(HttpRequest.BodyPublishers.concat(HttpRequest.BodyPublishers.ofByteArray(head),
                            HttpRequest.BodyPublishers.fromPublisher(
                                    HttpRequest.BodyPublishers.ofInputStream(() -> new FileStream(f, before.size())),
                                    before.size()),
                            HttpRequest.BodyPublishers.ofByteArray(tail)))
                    .build();
            HttpResponse<String> r = send(req, job);
            if (r == null) return;
            NativeFile.Stat after = f.stat();
            if (after.mtimeNs() != before.mtimeNs() || after.size() != before.size()) {
                fail(job.sha256(), v, v.path + " was written to while it was uploaded; the scan is not of this hash");
                return;
            }
            if (r.statusCode() != 200) {
                unexpected(job, r);
                return;
            }
            String id = parse(r.body()).path("data").path("id").asText(null);
            if (id == null) {
                retry(job, "no analysis id in the upload answer");
                return;
            }
            v.analysisId = id;
            v.checked = now();
            state.putVerdict(job.sha256(), v);
            LOG.log(System.Logger.Level.INFO, "uploaded " + v.path + " to VirusTotal for a scan (analysis " + id + ")");
            enqueue(job.sha256(), Step.ANALYSIS, clock.instant().plus(analysisPoll));
        } catch (SysError e) {
            fail(job.sha256(), v, "not uploaded: cannot read " + v.path + ": " + e.getMessage());
        }
    }

    /** The held file's bytes as a stream, read with pread so nothing else moves its offset. */
    private static final class FileStream extends java.io.InputStream {
        private final NativeFile f;
        private final long size;
        // The HTTP client reads from its own threads, so the buffer must not be confined to one.
        private final MemorySegment buf = Arena.ofAuto().allocate(1 << 16);
        private long off;

        FileStream(NativeFile f, long size) {
            this.f = f;
            this.size = size;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int o, int len) throws IOException {
            if (off >= size) return -1;
            long n = f.pread(buf.asSlice(0, Math.min(len, buf.byteSize())), off);
            if (n <= 0) return -1;
            n = Math.min(n, size - off);
            MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, b, o, (int) n);
            off += n;
            return (int) n;
        }
    }

    // ---- HTTP ----

    private HttpRequest.Builder request(String pathOrUrl) {
        URI uri = URI.create(pathOrUrl.startsWith("http") ? pathOrUrl : config.baseUrl() + pathOrUrl);
        return HttpRequest.newBuilder(uri).header("x-apikey", config.apiKey()).header("Accept", "application/json")
                .header("User-Agent", "peekd");
    }

    private HttpResponse<String> get(String path, Job job) {
        return send(request(path).timeout(Duration.ofSeconds(60)).GET().build(), job);
    }

    /** Sends, spending one request of the quota; null when the job was rescheduled (network, quota, key). */
    private HttpResponse<String> send(HttpRequest req, Job job) {
        spend();
        HttpResponse<String> r;
        try {
            r = http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            retry(job, "cannot reach VirusTotal: " + e.getMessage());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
            return null;
        }
        if (r.statusCode() == 429) {
            // Over the quota: everything waits, this hash keeps its place.
            synchronized (this) {
                nextRequest = clock.instant().plus(quotaBackoff);
            }
            LOG.log(System.Logger.Level.WARNING, "VirusTotal quota exceeded (HTTP 429); pausing lookups for "
                    + quotaBackoff.toSeconds() + " s");
            enqueue(job.sha256(), job.step(), clock.instant());
            return null;
        }
        if (r.statusCode() == 401 || r.statusCode() == 403) {
            String code = parse(r.body()).path("error").path("code").asText("HTTP " + r.statusCode());
            if (!keyRejected)
                errors.accept("VirusTotal rejected the API key (" + code + "); no lookups until virustotal.api_key"
                        + " is fixed and peekd restarted");
            keyRejected = true;
            ExeState.Verdict v = state.verdict(job.sha256());
            if (v != null) {
                v.error = "API key rejected (" + code + ")";
                state.putVerdict(job.sha256(), v); // stays pending: looked up after a restart with a good key
            }
            return null;
        }
        return r;
    }

    private void unexpected(Job job, HttpResponse<String> r) {
        String code = parse(r.body()).path("error").path("code").asText("");
        retry(job, "HTTP " + r.statusCode() + (code.isEmpty() ? "" : " " + code));
    }

    /** Tries again later, a few times, then gives the hash the verdict "error". */
    private void retry(Job job, String why) {
        ExeState.Verdict v = state.verdict(job.sha256());
        if (v == null) return;
        int attempts = v.attempts == null ? 1 : v.attempts + 1;
        v.attempts = attempts;
        v.error = why;
        if (attempts >= MAX_ATTEMPTS) {
            fail(job.sha256(), v, why);
            return;
        }
        state.putVerdict(job.sha256(), v);
        Duration wait = spacing.multipliedBy(1L << Math.min(attempts, 6));
        enqueue(job.sha256(), job.step(), clock.instant().plus(wait));
    }

    private void fail(String sha, ExeState.Verdict v, String why) {
        v.verdict = "error";
        v.error = why;
        v.checked = now();
        state.putVerdict(sha, v);
        errors.accept("VirusTotal: " + (v.path == null ? sha : v.path) + ": " + why);
    }

    private static JsonNode parse(String body) {
        try {
            JsonNode n = JSON.readTree(body == null ? "" : body);
            return n == null ? JSON.missingNode() : n;
        } catch (IOException e) {
            return JSON.missingNode();
        }
    }

    private String now() {
        return clock.instant().truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** Counters for metrics.json. */
    public Map<String, Object> stats() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("pending", pending());
        m.put("requests", requests());
        m.put("key_rejected", keyRejected);
        return m;
    }

    @Override
    public void close() {
        running = false;
        worker.interrupt();
        try {
            worker.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        http.shutdownNow();
        state.saveIfDirty();
    }
}

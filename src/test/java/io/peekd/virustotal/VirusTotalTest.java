package io.peekd.virustotal;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.bpf.NativeFile;
import io.peekd.config.Config;
import io.peekd.flow.Flag;
import io.peekd.flow.Notice;
import io.peekd.identity.ExeState;
import io.peekd.identity.FileId;
import io.peekd.identity.HashGate;
import io.peekd.identity.HashResult;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** VirusTotal lookups and uploads against a loopback server that speaks the v3 API. */
class VirusTotalTest {
    @TempDir
    Path dir;
    FakeVirusTotal vt;
    VirusTotal client;
    final List<String> errors = new CopyOnWriteArrayList<>();
    final List<Notice> notices = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() {
        if (client != null) client.close();
        if (vt != null) vt.close();
    }

    ExeState state() {
        return new ExeState(dir.resolve("state.json"), null, errors::add);
    }

    VirusTotal client(ExeState state, String baseUrl, String key, boolean upload) {
        client = new VirusTotal(new Config.VirusTotal(key, upload, 1, baseUrl), state, errors::add, notices::add,
                InstantSource.system(), Duration.ofMillis(20), Duration.ofMillis(300), Duration.ofMillis(50));
        return client;
    }

    /** An executable on disk and how the hash gate would report it. */
    HashGate.Sighting sighting(String name, String content) throws Exception {
        Path f = dir.resolve(name);
        Files.writeString(f, content);
        FileId id;
        try (NativeFile nf = NativeFile.open(f)) {
            id = FileId.of(nf.stat());
        }
        String sha = FakeVirusTotal.sha256(content.getBytes(StandardCharsets.UTF_8));
        return new HashGate.Sighting(f.toString(), name, new HashResult.Hashed(sha, id), null, Flag.NEW_EXE.bit, false);
    }

    static void await(String what, BooleanSupplier done) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(10);
        }
    }

    static ExeState.Verdict awaitVerdict(ExeState s, String sha, String verdict) throws InterruptedException {
        await("verdict " + verdict, () -> s.verdict(sha) != null && verdict.equals(s.verdict(sha).verdict));
        return s.verdict(sha);
    }

    @Test
    void aKnownHashIsCleanOrSuspiciousAndSuspiciousIsReported() throws Exception {
        vt = new FakeVirusTotal();
        HashGate.Sighting good = sighting("good", "good program"), bad = sighting("bad", "bad program");
        vt.known.put(good.hash().sha256(), 0);
        vt.known.put(bad.hash().sha256(), 7);
        ExeState state = state();
        client(state, vt.baseUrl(), FakeVirusTotal.KEY, false);
        client.submit(good);
        client.submit(bad);
        client.submit(good); // already pending: not asked twice
        ExeState.Verdict g = awaitVerdict(state, good.hash().sha256(), "clean");
        ExeState.Verdict b = awaitVerdict(state, bad.hash().sha256(), "suspicious");
        assertThat(g.undetected).isEqualTo(70);
        assertThat(b.malicious).isEqualTo(7);
        assertThat(vt.count("GET", "/api/v3/files/")).isEqualTo(2);
        assertThat(vt.requests).allSatisfy(r -> assertThat(r.apiKey()).isEqualTo(FakeVirusTotal.KEY));
        assertThat(errors).isEmpty();
        assertThat(notices).singleElement().satisfies(n -> {
            assertThat(n.text()).contains(bad.path()).contains("7 malicious");
            assertThat(n.severity()).isEqualTo(Notice.Severity.CRITICAL);
            assertThat(n.source()).isEqualTo("virustotal");
            assertThat(n.subject()).isEqualTo(bad.path());
        });
        client.submit(good); // known now: no new request
        client.close();
        assertThat(vt.count("GET", "/api/v3/files/")).isEqualTo(2);
    }

    @Test
    void anUnknownHashIsOnlyUploadedWhenAllowed() throws Exception {
        vt = new FakeVirusTotal();
        HashGate.Sighting s = sighting("private-tool", "#!/bin/sh\necho mine\n");
        ExeState state = state();
        client(state, vt.baseUrl(), FakeVirusTotal.KEY, false);
        client.submit(s);
        awaitVerdict(state, s.hash().sha256(), "unknown");
        assertThat(vt.count("POST", "/api/v3/files")).isZero();
    }

    @Test
    void anUnknownHashIsUploadedScannedAndJudged() throws Exception {
        vt = new FakeVirusTotal();
        String content = "#!/bin/sh\necho upload me\n" + "x".repeat(100_000);
        HashGate.Sighting s = sighting("new-tool", content);
        ExeState state = state();
        client(state, vt.baseUrl(), FakeVirusTotal.KEY, true);
        client.submit(s);
        ExeState.Verdict v = awaitVerdict(state, s.hash().sha256(), "clean");
        assertThat(vt.uploads).singleElement().satisfies(b -> assertThat(new String(b, StandardCharsets.UTF_8)).isEqualTo(content));
        assertThat(vt.count("GET", "/api/v3/analyses/")).isEqualTo(2); // queued, then completed
        assertThat(v.analysisId).isNull();
    }

    @Test
    void aFileChangedSinceItRanIsNotUploaded() throws Exception {
        vt = new FakeVirusTotal();
        HashGate.Sighting s = sighting("changing", "the program as it ran\n");
        Files.writeString(Path.of(s.path()), "tampered afterwards\n", StandardOpenOption.APPEND);
        ExeState state = state();
        client(state, vt.baseUrl(), FakeVirusTotal.KEY, true);
        client.submit(s);
        ExeState.Verdict v = awaitVerdict(state, s.hash().sha256(), "error");
        assertThat(v.error).contains("has changed since it ran");
        assertThat(vt.uploads).isEmpty();

        // Replaced by another file (other inode), even with the same content: not the file that ran either.
        HashGate.Sighting r = sighting("replaced", "same bytes\n");
        Path other = dir.resolve("replaced.new");
        Files.writeString(other, "same bytes\n");
        Files.move(other, Path.of(r.path()), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        client.submit(r);
        assertThat(awaitVerdict(state, r.hash().sha256(), "error").error).contains("another file now");
        assertThat(vt.uploads).isEmpty();
    }

    @Test
    void overTheQuotaLookupsPauseAndThenCarryOn() throws Exception {
        vt = new FakeVirusTotal();
        HashGate.Sighting s = sighting("quota", "quota test\n");
        vt.known.put(s.hash().sha256(), 0);
        vt.quotaErrors.set(2);
        ExeState state = state();
        client(state, vt.baseUrl(), FakeVirusTotal.KEY, false);
        client.submit(s);
        awaitVerdict(state, s.hash().sha256(), "clean");
        assertThat(vt.count("GET", "/api/v3/files/")).isEqualTo(3); // 429, 429, 200
        assertThat(state.verdict(s.hash().sha256()).attempts).isZero(); // a quota pause is not a failed attempt
    }

    @Test
    void aRejectedKeyIsReportedOnceAndStopsLookupsWhichResumeAfterARestartWithAGoodKey() throws Exception {
        vt = new FakeVirusTotal();
        HashGate.Sighting a = sighting("a", "a\n"), b = sighting("b", "b\n");
        vt.known.put(a.hash().sha256(), 0);
        vt.known.put(b.hash().sha256(), 0);
        ExeState state = state();
        client(state, vt.baseUrl(), "wrong-key", false);
        client.submit(a);
        client.submit(b);
        await("the key to be rejected", () -> !errors.isEmpty());
        Thread.sleep(300); // room for lookups that must not happen
        assertThat(vt.requests).hasSize(1);
        assertThat(errors).singleElement().asString().contains("rejected the API key").contains("WrongCredentialsError");
        assertThat(state.verdict(a.hash().sha256()).verdict).isEqualTo("pending");
        client.close();

        client(state, vt.baseUrl(), FakeVirusTotal.KEY, false); // peekd restarted with the key fixed
        awaitVerdict(state, a.hash().sha256(), "clean");
        awaitVerdict(state, b.hash().sha256(), "clean");
    }

    @Test
    void pendingLookupsSurviveARestart() throws Exception {
        int deadPort;
        try (ServerSocket ss = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            deadPort = ss.getLocalPort();
        }
        HashGate.Sighting s = sighting("later", "looked up later\n");
        ExeState state = state();
        client(state, "http://127.0.0.1:" + deadPort, FakeVirusTotal.KEY, false);
        client.submit(s);
        await("a failed attempt", () -> state.verdict(s.hash().sha256()).attempts != null
                && state.verdict(s.hash().sha256()).attempts > 0);
        client.close(); // writes state.json
        assertThat(ExeState.read(dir.resolve("state.json")).virustotal.get(s.hash().sha256()).verdict).isEqualTo("pending");

        vt = new FakeVirusTotal();
        vt.known.put(s.hash().sha256(), 0);
        ExeState reloaded = state();
        client(reloaded, vt.baseUrl(), FakeVirusTotal.KEY, false);
        awaitVerdict(reloaded, s.hash().sha256(), "clean");
    }
}

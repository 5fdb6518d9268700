package io.peekd.identity;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.bpf.NativeFile;
import io.peekd.capture.FlowKey;
import io.peekd.flow.Flag;
import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import java.io.FileOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The gate between closed windows and the store, with real files and a file system that hangs. */
class HashGateTest {
    @TempDir
    Path dir;
    final List<String> errors = new CopyOnWriteArrayList<>();
    ExeHashes hashes;
    Path fifo;
    static final Instant W1 = Instant.parse("2026-11-22T10:00:00Z"), W2 = W1.plusSeconds(5);
    /** No process has this pid (above the kernel's limit), so the path is what gets opened. */
    static final int NO_PID = 4_194_305;

    @AfterEach
    void cleanup() throws Exception {
        if (fifo != null) {
            // Let the hash thread that waits in open() on the pipe go.
            try (FileOutputStream w = new FileOutputStream(fifo.toFile())) {
                w.write(0);
            }
        }
        if (hashes != null) hashes.close();
    }

    HashGate.Keyed row(Path exe, Instant window, long sent) throws Exception {
        NativeFile.Stat st = NativeFile.stat(exe);
        FlowKey k = new FlowKey(NO_PID, 0, 1_000_000_000L, st.ino(), st.kernelDev(), FlowKey.AF_INET, 6, 1, 40000, 443,
                new byte[16], new byte[16]);
        Identity id = new Identity(exe.toString(), exe.getFileName().toString(), null, null, NO_PID, null, null, null,
                null, 0, 0, "root", null, null);
        return new HashGate.Keyed(k, new FlowRow(window, id, "tcp", 4, "10.0.0.1", 40000, "10.0.0.2", 443, null, null,
                null, sent, 0, 1), null);
    }

    static String sha256(Path p) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p)));
    }

    List<HashGate.Batch> pollUntil(HashGate gate, int rows) throws Exception {
        List<HashGate.Batch> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (got.stream().mapToInt(b -> b.rows().size()).sum() < rows && System.nanoTime() < deadline) {
            got.addAll(gate.poll(false));
            Thread.sleep(10);
        }
        return got;
    }

    @Test
    void aHungFileHoldsOnlyItsOwnRowsAndThoseGoOutWithAReasonWhenTheHoldEnds() throws Exception {
        Path small = dir.resolve("small-tool");
        Files.writeString(small, "#!/bin/sh\necho hi\n");
        fifo = dir.resolve("hung-tool");
        new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor();
        hashes = new ExeHashes(new ExeHashes.Settings(OptionalLong.empty(), 16, 2), new ProcFs(),
                PackageVerifier.none(), errors::add);
        ExeState state = new ExeState(dir.resolve("state.json"), null, errors::add);
        HashGate gate = new HashGate(hashes, state, errors::add, Duration.ofSeconds(3));

        // The hung executable's row comes first, in an older window: it must not hold the other one back.
        gate.offer(W1, List.of(row(fifo, W1, 1), row(small, W1, 2)));
        gate.offer(W2, List.of(row(small, W2, 3)));
        List<HashGate.Batch> first = pollUntil(gate, 2);
        assertThat(first).flatMap(HashGate.Batch::rows).extracting(r -> r.id().exe()).containsOnly(small.toString());
        assertThat(first).flatMap(HashGate.Batch::rows).extracting(FlowRow::sent).containsExactly(2L, 3L);
        assertThat(first).flatMap(HashGate.Batch::rows).allSatisfy(r -> assertThat(r.id().sha256()).isEqualTo(sha256(small)));
        // Flags once, in time order: the first window's row is the new one.
        assertThat(first.getFirst().rows().getFirst().has(Flag.NEW_EXE)).isTrue();
        assertThat(first.getLast().rows().getLast().flags()).isZero();
        assertThat(gate.heldRows()).isEqualTo(1);
        assertThat(gate.peek()).singleElement().satisfies(r -> assertThat(r.id().sha256()).isEqualTo("pending"));

        List<HashGate.Batch> late = pollUntil(gate, 1);
        assertThat(late).singleElement().satisfies(b -> {
            assertThat(b.window()).isEqualTo(W1);
            assertThat(b.rows()).singleElement().satisfies(r -> {
                assertThat(r.id().sha256()).isEqualTo("error: still hashing after 3 s");
                assertThat(r.has(Flag.NEW_EXE)).isTrue();
            });
        });
        assertThat(errors).anySatisfy(e -> assertThat(e).contains(fifo.toString()).contains("took longer than 3 s"));
        assertThat(gate.heldWindows()).isZero();
    }

    @Test
    void aSightingJudgedJustAfterASaveReachesStateJsonWithoutFurtherTraffic() throws Exception {
        Path first = dir.resolve("first-tool"), second = dir.resolve("second-tool");
        Files.writeString(first, "#!/bin/sh\necho 1\n");
        Files.writeString(second, "#!/bin/sh\necho 2\n");
        hashes = new ExeHashes(new ExeHashes.Settings(OptionalLong.empty(), 16, 2), new ProcFs(),
                PackageVerifier.none(), errors::add);
        Path file = dir.resolve("state.json");
        ExeState state = new ExeState(file, null, errors::add);
        HashGate gate = new HashGate(hashes, state, errors::add, Duration.ofSeconds(15), Duration.ofSeconds(2));

        gate.offer(W1, List.of(row(first, W1, 1)));
        assertThat(pollUntil(gate, 1)).isNotEmpty();
        gate.poll(true); // a save now: the next sighting falls inside the save interval
        assertThat(ExeState.read(file).executables).containsOnlyKeys(first.toString());

        gate.offer(W2, List.of(row(second, W2, 2)));
        assertThat(pollUntil(gate, 1)).flatMap(HashGate.Batch::rows).singleElement()
                .satisfies(r -> assertThat(r.has(Flag.NEW_EXE)).isTrue());
        // No more rows will come: the drain's empty polls must still write what was judged.
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!ExeState.read(file).executables.containsKey(second.toString()) && System.nanoTime() < deadline) {
            assertThat(gate.poll(false)).isEmpty();
            Thread.sleep(50);
        }
        assertThat(ExeState.read(file).executables).containsKeys(first.toString(), second.toString());
        assertThat(ExeState.read(file).executables.get(second.toString()).hashes).containsOnlyKeys(sha256(second));
    }
}

package io.peekd.cli;

import io.peekd.bpf.NativeFile;
import io.peekd.identity.FileDigest;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

/** For bench/exeid: peekd's own sha256 path (held descriptor, pread, JDK SHA-256) on one file. */
@Command(name = "bench-hash", hidden = true, mixinStandardHelpOptions = true,
        description = {"Hash FILE the way the daemon hashes executables, RUNS times, and print the sha256",
                "and the median throughput in MB/s. Used by bench/exeid to compare with sha256sum."})
final class BenchHashCommand implements Callable<Integer> {
    @Parameters(paramLabel = "FILE")
    Path file;

    @Option(names = "--runs", defaultValue = "5", description = "How many times (default: ${DEFAULT-VALUE}).")
    int runs;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        double[] mbps = new double[Math.max(1, runs)];
        String sha = null;
        for (int i = 0; i < mbps.length; i++) {
            try (NativeFile f = NativeFile.open(file)) {
                long size = f.stat().size();
                long t0 = System.nanoTime();
                sha = FileDigest.sha256(f);
                mbps[i] = size / 1e6 / ((System.nanoTime() - t0) / 1e9);
            }
        }
        Arrays.sort(mbps);
        spec.commandLine().getOut().printf("%s  %s  %.0f MB/s (median of %d)%n", sha, file, mbps[mbps.length / 2], mbps.length);
        return 0;
    }
}

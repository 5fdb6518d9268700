package io.peekd.metrics;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** This JVM's resident memory, CPU time and threads, as the kernel sees them. */
public record ProcessUsage(long rssBytes, double cpuSeconds, int threads) {

    public static ProcessUsage current() {
        long rss = -1;
        int threads = -1;
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("VmRSS:")) rss = Long.parseLong(l.substring(6).trim().split("\\s+")[0]) * 1024;
                else if (l.startsWith("Threads:")) threads = Integer.parseInt(l.substring(8).trim());
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or /proc hidden: report unknowns rather than fail the snapshot.
        }
        double cpu = ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos() / 1e9).orElse(-1.0);
        return new ProcessUsage(rss, cpu, threads);
    }
}

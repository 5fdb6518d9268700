package io.peekd.alert;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs one exec action: the program directly (no shell), a clean environment with the
 * alert's PEEKD_* variables, stdin from /dev/null, the working directory /. A program
 * that outlives its timeout is killed together with its children.
 */
final class ExecRunner {
    static final String PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /** Output kept for the alert log; the rest is read and dropped so the program never blocks on a full pipe. */
    static final int OUTPUT_KEPT = 2_048;

    private ExecRunner() {
    }

    static Outcome run(List<String> argv, Map<String, String> values, Duration timeout) {
        ProcessBuilder pb = new ProcessBuilder(argv);
        // The daemon's own environment is not passed on: the program gets only what it needs.
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", PATH);
        env.put("LANG", "C.UTF-8");
        env.putAll(values);
        pb.directory(new File("/"));
        pb.redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        pb.redirectErrorStream(true);
        Process p;
        try {
            p = pb.start();
        } catch (IOException | RuntimeException e) {
            return new Outcome("exec", Outcome.Status.FAILED, "cannot run " + argv.getFirst() + ": " + e.getMessage());
        }
        StringBuilder out = new StringBuilder();
        Thread reader = Thread.ofVirtual().start(() -> drain(p.getInputStream(), out));
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill(p);
                return new Outcome("exec", Outcome.Status.TIMEOUT, argv.getFirst() + " still ran after "
                        + timeout.toSeconds() + " s and was killed");
            }
        } catch (InterruptedException e) {
            kill(p);
            Thread.currentThread().interrupt();
            return new Outcome("exec", Outcome.Status.FAILED, "interrupted (daemon stopping); " + argv.getFirst() + " was killed");
        }
        try {
            reader.join(1_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String text;
        synchronized (out) {
            text = AlertValues.printable(out.toString().strip());
        }
        int rc = p.exitValue();
        if (rc != 0) return new Outcome("exec", Outcome.Status.FAILED, "exit " + rc + (text.isEmpty() ? "" : ": " + text));
        return Outcome.ok("exec", text.isEmpty() ? null : text);
    }

    /** Children first, so none is re-parented and left running. */
    private static void kill(Process p) {
        try {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
        } catch (RuntimeException ignored) {
            // the process may be gone already
        }
        p.destroyForcibly();
        try {
            p.waitFor(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void drain(InputStream in, StringBuilder out) {
        byte[] buf = new byte[4096];
        byte[] kept = new byte[OUTPUT_KEPT];
        int n, have = 0;
        try (in) {
            while ((n = in.read(buf)) > 0) {
                int take = Math.min(n, OUTPUT_KEPT - have);
                System.arraycopy(buf, 0, kept, have, take);
                have += take;
            }
        } catch (IOException ignored) {
            // the pipe closes when the process is killed
        }
        synchronized (out) {
            out.append(new String(kept, 0, have, StandardCharsets.UTF_8));
        }
    }
}

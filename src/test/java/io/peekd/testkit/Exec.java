package io.peekd.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The outcome of one finished external command.
 *
 * @param argv     the command as run
 * @param exitCode its exit status
 * @param stdout   everything it printed on standard output
 * @param stderr   everything it printed on standard error
 */
public record Exec(List<String> argv, int exitCode, String stdout, String stderr) {

    public Exec {
        argv = List.copyOf(argv);
    }

    /** Runs a command to its end, killing it (and its children) after {@code limit}. */
    public static Exec run(Duration limit, List<String> argv) {
        Path out = null, err = null;
        try {
            // Files, not pipes: a chatty command can then never block on a full pipe.
            out = Files.createTempFile("peekd-exec", ".out");
            err = Files.createTempFile("peekd-exec", ".err");
            Process p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()))
                    .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
            if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
                kill(p);
                throw new IllegalStateException("timed out after " + limit + ": " + String.join(" ", argv)
                        + "\nstderr: " + Files.readString(err));
            }
            return new Exec(argv, p.exitValue(), Files.readString(out), Files.readString(err));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + String.join(" ", argv), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + String.join(" ", argv), e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    /** Runs a command with a 30 s limit. */
    public static Exec run(String... argv) {
        return run(Duration.ofSeconds(30), List.of(argv));
    }

    /** Runs a command that must succeed; throws with its stderr otherwise. */
    public static Exec check(String... argv) {
        return run(argv).requireOk();
    }

    public boolean ok() {
        return exitCode == 0;
    }

    public Exec requireOk() {
        if (!ok()) {
            throw new IllegalStateException("`" + String.join(" ", argv) + "` exited " + exitCode
                    + (stderr.isBlank() ? "" : ": " + stderr.strip()));
        }
        return this;
    }

    /** Kills a process and everything it started, then reaps it. */
    static void kill(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
        try {
            p.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void deleteQuietly(Path p) {
        if (p == null) return;
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a leftover temp file is harmless; the command's result matters more
        }
    }
}

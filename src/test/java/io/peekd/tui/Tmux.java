package io.peekd.tui;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A tmux server of the test's own (its own socket, so it never touches anyone else's
 * sessions) with one detached session of a fixed size running a shell. Tests type into
 * it with {@link #keys} and read the screen back with {@link #screen}.
 */
final class Tmux implements AutoCloseable {

    static final Path SCREENS = Path.of("target", "tui-screens");
    private static final Duration STEP = Duration.ofMillis(50);

    private final String socket = "peekd-tui-" + UUID.randomUUID();
    private final String session = "view";

    private Tmux() {
    }

    static boolean available() {
        try {
            return new ProcessBuilder("tmux", "-V").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** Starts a session of {@code cols x rows} running a plain shell (no rc files, a fixed prompt). */
    static Tmux start(int cols, int rows) {
        Tmux t = new Tmux();
        t.tmux("-f", "/dev/null", "new-session", "-d", "-s", t.session, "-x", Integer.toString(cols), "-y",
                Integer.toString(rows), "env", "PS1=$ ", "bash", "--norc", "--noprofile");
        // Keep the window the size asked for, whatever clients attach.
        t.tmux("set-option", "-t", t.session, "window-size", "manual");
        return t;
    }

    /** Sends tmux key names ("Enter", "Down", "C-c", "BSpace") or plain characters. */
    void keys(String... keys) {
        List<String> args = new ArrayList<>(List.of("send-keys", "-t", session));
        args.addAll(List.of(keys));
        tmux(args.toArray(String[]::new));
    }

    /** Types text literally, then Enter. */
    void type(String line) {
        tmux("send-keys", "-t", session, "-l", line);
        tmux("send-keys", "-t", session, "Enter");
    }

    String screen() {
        return tmux("capture-pane", "-p", "-t", session);
    }

    /** The screen with its colours and attributes as escape sequences. */
    String screenWithAttributes() {
        return tmux("capture-pane", "-p", "-e", "-t", session);
    }

    List<String> lines() {
        return List.of(screen().split("\n", -1));
    }

    /** A tmux format value, e.g. {@code #{alternate_on}}. */
    String format(String f) {
        return tmux("display-message", "-p", "-t", session, f).strip();
    }

    void resize(int cols, int rows) {
        tmux("resize-window", "-t", session, "-x", Integer.toString(cols), "-y", Integer.toString(rows));
    }

    /** The process started from the shell (the view), if one runs. */
    Optional<ProcessHandle> child() {
        long shell = Long.parseLong(format("#{pane_pid}"));
        return ProcessHandle.of(shell).flatMap(p -> p.children().findFirst());
    }

    /**
     * Waits until the screen satisfies {@code test}, up to {@code limit}; fails with the
     * last screen otherwise. Returns that screen.
     */
    String await(String what, Predicate<String> test, Duration limit) {
        long end = System.nanoTime() + limit.toNanos();
        String s = screen();
        while (!test.test(s)) {
            if (System.nanoTime() > end) {
                throw new AssertionError("screen never showed " + what + "; last screen:\n" + s);
            }
            sleep(STEP);
            s = screen();
        }
        return s;
    }

    String await(String text) {
        return await('"' + text + '"', s -> s.contains(text), Duration.ofSeconds(60));
    }

    /** Saves the current screen under target/tui-screens for a human to look at. */
    void save(String name) throws IOException {
        Files.createDirectories(SCREENS);
        Files.writeString(SCREENS.resolve(name + ".txt"), screen(), StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        String path = null;
        try {
            path = format("#{socket_path}");
        } catch (AssertionError e) {
            // the server is already gone
        }
        // Only this test's server: the socket name is ours alone.
        tmux("kill-server");
        if (path != null && !path.isEmpty()) {
            try {
                Files.deleteIfExists(Path.of(path));
            } catch (IOException e) {
                // a stale socket file is harmless
            }
        }
    }

    private String tmux(String... args) {
        List<String> cmd = new ArrayList<>(List.of("tmux", "-L", socket));
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("tmux " + String.join(" ", args) + " hung");
            }
            if (!args[0].equals("kill-server")) {
                assertThat(p.exitValue()).as("tmux %s: %s", String.join(" ", args), out).isZero();
            }
            return out;
        } catch (IOException e) {
            throw new AssertionError("cannot run tmux: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}

package io.peekd.tui;

import io.peekd.testkit.TestConfig;
import io.peekd.testkit.Tgen;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code peekd view} run as a real process in a tmux session: its own config, data
 * directory and test history, started from a shell script that records the terminal
 * settings before and after and prints the exit code.
 */
final class ViewSession implements AutoCloseable {

    private static final Pattern EXIT = Pattern.compile("EXIT=(\\d+)");

    final Path dir;
    final Path db;
    final Instant now;
    final Tmux tmux;

    private ViewSession(Path dir, Instant now, Tmux tmux) {
        this.dir = dir;
        this.db = dir.resolve("data/peekd.db");
        this.now = now;
        this.tmux = tmux;
    }

    /** A fresh directory with the standard test history written "now". */
    static ViewSession create(String name, int cols, int rows) throws Exception {
        Path base = Tgen.testDir();
        Path dir = Files.createTempDirectory(base, "tui-" + name + "-");
        Files.writeString(dir.resolve("config.toml"), TestConfig.paths(dir));
        Instant now = Instant.now();
        ViewDb.write(dir.resolve("data/peekd.db"), now);
        return new ViewSession(dir, now, Tmux.start(cols, rows));
    }

    /**
     * Starts {@code peekd view ARGS} in the session's shell with the given environment
     * (TERM, NO_COLOR...), LANG=C.UTF-8 unless given.
     */
    void start(Map<String, String> env, String... args) throws Exception {
        start(false, env, args);
    }

    /**
     * Like {@link #start(Map, String...)}, but the script execs the view, as a launcher
     * script would: the shell's job is the view itself, which is what job control (Ctrl-Z,
     * fg) sees. The test then types {@link #afterExec()} once the view has quit.
     */
    void startExec(Map<String, String> env, String... args) throws Exception {
        start(true, env, args);
    }

    /** Records the exit code and the settings from the shell, after an exec'd view ended. */
    void afterExec() {
        // Leading spaces: a key typed while the view is handing the terminal back to the shell
        // can be swallowed on a loaded machine; losing a space changes nothing.
        tmux.type("   echo EXIT=$?; stty -a > " + quote(dir.resolve("stty-after").toString()));
    }

    private void start(boolean exec, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Xmx256m", "-cp", System.getProperty("java.class.path"),
                "io.peekd.cli.Main", "view", "--config", dir.resolve("config.toml").toString()));
        cmd.addAll(List.of(args));
        StringBuilder script = new StringBuilder("#!/bin/bash\n");
        script.append("export LANG=C.UTF-8\n");
        env.forEach((k, v) -> script.append("export ").append(k).append('=').append(quote(v)).append('\n'));
        script.append("stty -a > ").append(quote(dir.resolve("stty-before").toString())).append('\n');
        if (exec) {
            script.append("exec ");
        }
        for (String c : cmd) {
            script.append(quote(c)).append(' ');
        }
        script.append("2> ").append(quote(dir.resolve("stderr").toString())).append('\n');
        script.append("echo EXIT=$?\n");
        script.append("stty -a > ").append(quote(dir.resolve("stty-after").toString())).append('\n');
        Path file = dir.resolve("view.sh");
        Files.writeString(file, script);
        tmux.type("clear; bash " + file);
    }

    void startDefault(String... args) throws Exception {
        start(Map.of("TERM", "xterm-256color"), args);
    }

    /** Waits for the view's first full screen: the status line shows the row position. */
    String awaitLoaded() {
        return tmux.await("a loaded view", s -> s.contains("total ") && !s.contains("loading"),
                Duration.ofSeconds(90));
    }

    /** Waits for the view to end; returns its exit code. */
    int awaitExit() {
        String s = tmux.await("the exit code", t -> EXIT.matcher(t).find(), Duration.ofSeconds(60));
        Matcher m = EXIT.matcher(s);
        assertThat(m.find()).isTrue();
        // The script records the settings right after; give it the moment it needs.
        Path after = dir.resolve("stty-after");
        for (int i = 0; i < 200 && !Files.exists(after); i++) {
            Tmux.sleep(Duration.ofMillis(50));
        }
        return Integer.parseInt(m.group(1));
    }

    /** The terminal is as it was: same stty settings, main screen back. */
    void assertTerminalRestored() throws Exception {
        Path after = dir.resolve("stty-after");
        for (int i = 0; i < 200 && (!Files.exists(after) || Files.size(after) == 0); i++) {
            Tmux.sleep(Duration.ofMillis(50));
        }
        assertThat(Files.readString(after)).isEqualTo(Files.readString(dir.resolve("stty-before")));
        assertThat(tmux.format("#{alternate_on}")).isEqualTo("0");
        assertThat(tmux.format("#{cursor_flag}")).as("cursor visible").isEqualTo("1");
    }

    String stderr() throws Exception {
        Path p = dir.resolve("stderr");
        return Files.exists(p) ? Files.readString(p) : "";
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }

    @Override
    public void close() {
        tmux.close();
    }
}

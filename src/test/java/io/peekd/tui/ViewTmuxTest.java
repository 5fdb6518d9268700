package io.peekd.tui;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.peekd.flow.FlowRow;

/**
 * {@code peekd view} as a user meets it: a real process in a real terminal (tmux), driven
 * by keys, read back from the screen. The history is {@link ViewDb}'s, so every number on
 * screen is checked against a known sum.
 */
class ViewTmuxTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @BeforeAll
    static void tmuxInstalled() {
        assertThat(Tmux.available()).as("tmux must be installed (see scripts/test-packages.txt)").isTrue();
    }

    /**
     * A table row: the label, then sent, received and total in bytes, separated by blanks. An
     * address may have a one-word country column before the numbers (the default GeoIP file
     * is installed on machines set up by scripts/setup).
     */
    private static Pattern row(String label, long sent, long recv) {
        return Pattern.compile("(?m)^.?" + Pattern.quote(label) + "\\s+(?:[A-Za-z-]+\\s+)?" + sent + " B\\s+" + recv + " B\\s+"
                + (sent + recv) + " B$");
    }

    private static String awaitRow(Tmux t, String label, long sent, long recv) {
        Pattern p = row(label, sent, recv);
        return t.await(label + " " + sent + "/" + recv, s -> p.matcher(s).find(), WAIT);
    }

    @Test
    void everyTabShowsItsKnownSums() throws Exception {
        try (ViewSession v = ViewSession.create("tabs", 80, 24)) {
            v.startDefault("--units", "B", "--refresh", "0");
            Tmux t = v.tmux;
            String s = v.awaitLoaded();
            assertThat(s).contains("EXECUTABLE (4)");
            assertThat(s).containsPattern(row("/usr/bin/wget", 400, 1_000_200));
            assertThat(s).containsPattern(row("/usr/bin/curl", 1500, 27_000));
            assertThat(s).containsPattern(row("/usr/sbin/sshd", 5000, 6000));
            assertThat(s).containsPattern(row("/tmp/evil\\x1b[2J\\x1b[H", 42, 43));
            assertThat(s).contains("all time", "1/4", "sent " + ViewDb.SENT_ALL + " B",
                    "recv " + ViewDb.RECV_ALL + " B", "total " + (ViewDb.SENT_ALL + ViewDb.RECV_ALL) + " B");
            t.save("exe-80x24");

            t.keys("Right");
            t.await("NAME (4)");
            awaitRow(t, "curl", 1500, 27_000);
            assertThat(t.screen()).containsPattern(row("ev\\x1b]0;pwned\\x07il", 42, 43));

            t.keys("Right");
            t.await("COMMAND (4)");
            awaitRow(t, "wget -q https://download.test/big", 400, 1_000_200);
            assertThat(t.screen()).containsPattern(row("line1\\x0aline2\\u202eevil\\x09x", 42, 43));
            t.save("cmdline-80x24");

            t.keys("Right");
            s = t.await("SHA256 (4)");
            assertThat(s).contains("VERDICT");
            // 64 hex digits do not fit next to four columns in 80: cut, with the full hash below.
            assertThat(s).containsPattern("(?m)^.?cccccccccc\\S*\\s+400 B\\s+1000200 B\\s+1000600 B$");

            t.keys("Right");
            t.await("PARENT EXECUTABLE (3)");
            awaitRow(t, "/usr/bin/bash", 1542, 27_043);
            assertThat(t.screen()).containsPattern(row("/usr/sbin/cron", 400, 1_000_200));

            t.keys("Right");
            t.await("PARENT NAME (3)");
            awaitRow(t, "sshd", 5000, 6000);

            t.keys("Right");
            t.await("PARENT COMMAND (3)");
            awaitRow(t, "/usr/sbin/cron -f", 400, 1_000_200);

            t.keys("Right");
            t.await("PARENT SHA256 (3)");
            t.await("bb... row", x -> Pattern.compile("(?m)^.?bbbbbbbbbb\\S*\\s+1542 B\\s+27043 B\\s+28585 B$")
                    .matcher(x).find(), WAIT);

            t.keys("Right");
            t.await("USER (3)");
            awaitRow(t, "root (0)", 5400, 1_006_200);
            assertThat(t.screen()).containsPattern(row("alice (1000)", 1500, 27_000))
                    .containsPattern(row("bob (1001)", 42, 43));
            t.save("user-80x24");

            t.keys("Right");
            t.await("LOCAL PORT (6)");
            awaitRow(t, "22", 5000, 6000);
            assertThat(t.screen()).containsPattern(row("40002", 300, 1_000_000));

            t.keys("Right");
            t.await("REMOTE PORT (4)");
            awaitRow(t, "80", 400, 1_000_200);
            assertThat(t.screen()).containsPattern(row("443", 1500, 27_000)).containsPattern(row("6667", 42, 43));

            t.keys("Right");
            t.await("LOCAL ADDRESS (1)");
            awaitRow(t, "10.0.0.1", ViewDb.SENT_ALL, ViewDb.RECV_ALL);
            assertThat(t.screen()).contains("COUNTRY");

            t.keys("Right");
            t.await("REMOTE ADDRESS (4)");
            awaitRow(t, "198.51.100.7", 400, 1_000_200);
            assertThat(t.screen()).containsPattern(row("93.184.216.34", 1500, 27_000));

            t.keys("Right");
            t.await("DOMAIN (3)");
            awaitRow(t, "download.test", 400, 1_000_200);
            assertThat(t.screen()).containsPattern(row("(none)", 5042, 6043));

            t.keys("Right");
            t.await("CONTAINER (2)");
            awaitRow(t, "web", 400, 1_000_200);
            assertThat(t.screen()).containsPattern(row("(host)", 6542, 33_043));

            t.keys("Right");
            s = t.await("TIME (");
            // All time spans 40 days: one row per local day.
            Map<String, long[]> days = new TreeMap<>();
            ZoneId zone = ZoneId.systemDefault();
            DateTimeFormatter day = DateTimeFormatter.ofPattern("yyyy-MM-dd");
            for (FlowRow r : rows(v.db)) {
                long[] sum = days.computeIfAbsent(day.format(r.time().atZone(zone)), k -> new long[2]);
                sum[0] += r.sent();
                sum[1] += r.recv();
            }
            t.await("TIME (" + zone.getId() + ") (" + days.size() + ")");
            for (Map.Entry<String, long[]> e : days.entrySet()) {
                awaitRow(t, e.getKey(), e.getValue()[0], e.getValue()[1]);
            }
            t.save("time-80x24");

            // Right from the last tab wraps to the first; left goes back.
            t.keys("Right");
            t.await("EXECUTABLE (4)");
            t.keys("Left");
            t.await("TIME (");
            t.keys("q");
            assertThat(v.awaitExit()).isZero();
            v.assertTerminalRestored();
        }
    }

    /** The rows ViewDb wrote, read back the way the store keeps them. */
    private static List<FlowRow> rows(java.nio.file.Path db) {
        try (io.peekd.store.Reader r = io.peekd.store.Reader.open(db)) {
            return r.query(io.peekd.store.Query.all());
        }
    }

    @Test
    void filtersStackIntoADrillDownAndUnwind() throws Exception {
        try (ViewSession v = ViewSession.create("filter", 80, 24)) {
            v.startDefault("--units", "B", "--refresh", "0");
            Tmux t = v.tmux;
            v.awaitLoaded();
            // Rows: wget, curl, sshd, evil. Down to curl and filter on it with enter.
            t.keys("Down");
            t.await("2/4");
            t.keys("Enter");
            String s = t.await("filter: exe = /usr/bin/curl");
            // Drill-down moves on to the next tab, which now only holds curl's traffic.
            s = t.await("NAME (1)");
            assertThat(s).containsPattern(row("curl", 1500, 27_000));
            assertThat(t.screen()).contains("sent 1500 B", "recv 27000 B");
            t.save("filter-exe");

            // Space filters too; straight on to the next tab, the command lines.
            t.keys("Space");
            t.await("filter: exe = /usr/bin/curl › name = curl");
            t.await("COMMAND (1)");
            // And f: the hash.
            t.keys("f");
            t.await("name = curl › cmdline = curl https://example.org");
            t.await("SHA256 (1)");

            // Remove them: backspace, F and E each drop the last one and go back to its tab.
            t.keys("BSpace");
            t.await("COMMAND (1)");
            assertThat(t.screen()).doesNotContain("cmdline = ");
            t.keys("F");
            s = t.await("NAME (1)");
            assertThat(s).contains("filter: exe = /usr/bin/curl").doesNotContain("name = curl");
            t.keys("E");
            s = t.await("EXECUTABLE (4)");
            assertThat(s).contains("filter: none");
            // The cursor is back on the entry that was filtered.
            assertThat(s).containsPattern("(?m)^›/usr/bin/curl");
            assertThat(s).contains("2/4");

            // e excludes the entry under the cursor and stays on the tab.
            t.keys("e");
            s = t.await("EXECUTABLE (3)");
            assertThat(s).contains("filter: exe ≠ /usr/bin/curl").doesNotContain("/usr/bin/curl ");
            assertThat(s).contains("sent " + (ViewDb.SENT_ALL - 1500) + " B", "recv " + (ViewDb.RECV_ALL - 27_000)
                    + " B");
            // Exclusions stack: now the first row (wget) as well.
            t.keys("Home", "e");
            s = t.await("EXECUTABLE (2)");
            assertThat(s).contains("exe ≠ /usr/bin/curl › exe ≠ /usr/bin/wget");
            t.save("exclude-twice");
            t.keys("BSpace");
            t.await("EXECUTABLE (3)");
            t.keys("BSpace");
            t.await("EXECUTABLE (4)");
            t.keys("BSpace");
            t.await("no filter to remove");

            t.keys("q");
            assertThat(v.awaitExit()).isZero();
            v.assertTerminalRestored();
        }
    }

    @Test
    void timeRangesHistoryAndUnits() throws Exception {
        try (ViewSession v = ViewSession.create("range", 80, 24)) {
            v.startDefault("--refresh", "0");
            Tmux t = v.tmux;
            v.awaitLoaded();
            // u cycles units: auto (1024) -> auto-si (1000) -> B -> KiB; U goes back.
            assertThat(t.screen()).contains("recv 1009 KiB");
            t.keys("u");
            t.await("recv 1.03 MB");
            t.keys("u");
            t.await("recv " + ViewDb.RECV_ALL + " B");
            t.keys("u");
            t.await("recv 1009.03 KiB");
            t.keys("U");
            t.await("recv " + ViewDb.RECV_ALL + " B");

            // h needs a time range first.
            t.keys("h");
            t.await("press t first");

            // t: the last minute holds curl (-15 s) and wget (-5 s) only.
            t.keys("t");
            String s = t.await("last 1 minute");
            s = t.await("EXECUTABLE (2)");
            assertThat(t.screen()).contains("sent 1300 B", "recv 1020000 B");
            t.save("range-1m");
            // T steps back to all time.
            t.keys("T");
            t.await("all time");
            t.await("EXECUTABLE (4)");
            // t four times: 1 minute, 5 minutes, 15 minutes, 1 hour.
            t.keys("t", "t", "t", "t");
            t.await("last 1 hour");
            s = t.await("EXECUTABLE (3)");
            assertThat(t.await("sent 1342 B")).contains("recv 1020043 B");

            // h: the hour before holds the curl row 90 minutes ago.
            t.keys("h");
            s = t.await("1 hour, 1 back: ");
            s = t.await("sent 500 B");
            assertThat(s).contains("EXECUTABLE (1)", "recv 7000 B");
            assertThat(s).containsPattern(row("/usr/bin/curl", 500, 7000));
            t.save("history-1h-back");
            t.keys("h");
            t.await("1 hour, 2 back: ");
            t.await("no traffic in this time range");
            // H forward twice is the present again; a third H says so.
            t.keys("H", "H");
            t.await("last 1 hour");
            t.await("EXECUTABLE (3)");
            t.keys("H");
            t.await("already showing the present");

            // t cycles on through 6 hours, 1 day, 1 week, 30 days (sshd's row at -40 days is
            // outside) to 1 year (every row is inside), then wraps to all time.
            t.keys("t", "t", "t", "t");
            t.await("last 30 days");
            t.await("EXECUTABLE (3)");
            t.keys("t");
            t.await("last 1 year");
            t.await("EXECUTABLE (4)");
            t.keys("t");
            t.await("all time");

            t.keys("q");
            assertThat(v.awaitExit()).isZero();
            v.assertTerminalRestored();
        }
    }

    @Test
    void movementKeysAndHelp() throws Exception {
        try (ViewSession v = ViewSession.create("move", 80, 24)) {
            v.startDefault("--tab", "lport", "--units", "B", "--refresh", "0");
            Tmux t = v.tmux;
            v.awaitLoaded();
            t.await("LOCAL PORT (6)");
            t.keys("End");
            t.await("6/6");
            t.keys("Home");
            t.await("1/6");
            t.keys("Down", "Down");
            t.await("3/6");
            t.keys("Up");
            t.await("2/6");
            t.keys("NPage");
            t.await("6/6");
            t.keys("PPage");
            t.await("1/6");
            t.keys("j", "j", "k");
            t.await("2/6");
            t.keys("?");
            String s = t.await("Press any key to go back");
            assertThat(s).contains("step back/forward through history");
            t.save("help");
            t.keys("x");
            s = t.await("the table again", x -> !x.contains("Press any key"), WAIT);
            assertThat(s).contains("2/6").containsPattern("(?m)^›40000");
            t.keys("q");
            assertThat(v.awaitExit()).isZero();
            v.assertTerminalRestored();
        }
    }

    @Test
    void resizesCleanly() throws Exception {
        try (ViewSession v = ViewSession.create("resize", 80, 24)) {
            v.startDefault("--tab", "lport", "--units", "B", "--refresh", "0");
            Tmux t = v.tmux;
            v.awaitLoaded();
            awaitFrame(t, 80, 24, 6);

            t.resize(50, 10);
            // Ten lines leave five rows for the table: the sixth port scrolls out of view.
            awaitFrame(t, 50, 10, 5);
            t.keys("End");
            String s = t.await("6/6");
            assertThat(s).containsPattern("(?m)^›40004");
            t.save("resized-50x10");

            t.resize(120, 40);
            awaitFrame(t, 120, 40, 6);
            t.save("resized-120x40");

            // Too small to draw a table: says so instead of a broken frame, and recovers.
            t.resize(15, 4);
            t.await("too small");
            t.resize(80, 24);
            awaitFrame(t, 80, 24, 6);
            t.keys("q");
            assertThat(v.awaitExit()).isZero();
            v.assertTerminalRestored();
        }
    }

    /**
     * Waits for a whole frame of the new size: tab bar on top, status at the bottom,
     * {@code rows} table rows, no line wider than the window. (Right after a resize the
     * screen holds tmux's reflow of the old frame until the view redraws.)
     */
    private static String awaitFrame(Tmux t, int cols, int height, int rows) {
        return t.await("a " + cols + "x" + height + " frame with " + rows + " rows",
                s -> isFrame(s, cols, height, rows), WAIT);
    }

    private static boolean isFrame(String screen, int cols, int height, int rows) {
        String[] all = screen.split("\n", -1);
        if (all.length < height) {
            return false;
        }
        List<String> lines = List.of(all).subList(0, height);
        for (String l : lines) {
            if (l.codePointCount(0, l.length()) > cols) {
                return false;
            }
        }
        long tableRows = lines.subList(2, height - 3).stream().filter(l -> l.matches("^.?\\d+\\s+\\d+ B.*")).count();
        return lines.get(0).contains("lport") && lines.get(1).startsWith(" LOCAL PORT (6)")
                && lines.get(height - 1).startsWith(" all time") && lines.get(height - 1).contains("/6")
                && lines.get(height - 2).startsWith("filter: ") && tableRows == rows;
    }

    @Test
    void hostileNamesAreShownEscapedAndCannotMoveTheCursor() throws Exception {
        try (ViewSession v = ViewSession.create("hostile", 80, 24)) {
            v.startDefault("--tab", "name", "--units", "B", "--refresh", "0");
            Tmux t = v.tmux;
            v.awaitLoaded();
            t.keys("End");
            String s = t.await("4/4");
            // The name carries an OSC "set title" sequence; it is drawn as text.
            assertThat(s).containsPattern("(?m)^›ev\\\\x1b]0;pwned\\\\x07il\\s+42 B\\s+43 B\\s+85 B$");
            assertThat(t.format("#{pane_title}")).doesNotContain("pwned");
            t.keys("Right");
            s = t.await("COMMAND (4)");
            // Newline, bidi override and tab in the command line are escapes, not layout.
            assertThat(s).contains("line1\\x0aline2\\u202eevil\\x09x");
            assertThat(s).doesNotContain("\u202e");
            // The frame is intact: status still on the last line, nothing cleared by ESC [2J.
            List<String> lines = t.lines();
            assertThat(lines.get(23)).startsWith(" all time");
            assertThat(lines.get(0)).contains("cmdline");
            t.keys("Left", "Left");
            s = t.await("EXECUTABLE (4)");
            assertThat(s).contains("/tmp/evil\\x1b[2J\\x1b[H");
            t.save("hostile");
            t.keys("q");
            assertThat(v.awaitExit()).isZero();
            v.assertTerminalRestored();
        }
    }

    @Test
    void colourOnA256ColourTerminalNoneWithNoColorOrVt100() throws Exception {
        try (ViewSession v = ViewSession.create("colour", 80, 24)) {
            v.start(Map.of("TERM", "xterm-256color"), "--refresh", "0");
            v.awaitLoaded();
            String attrs = v.tmux.screenWithAttributes();
            assertThat(attrs).as("256-colour SGR").containsPattern("\u001b\\[[0-9;]*38;5;\\d+");
            v.tmux.keys("q");
            assertThat(v.awaitExit()).isZero();
            v.assertTerminalRestored();
        }
        for (Map<String, String> env : List.of(Map.of("TERM", "xterm-256color", "NO_COLOR", "1"),
                Map.of("TERM", "vt100"))) {
            try (ViewSession v = ViewSession.create("mono", 80, 24)) {
                v.start(env, "--refresh", "0");
                String s = v.awaitLoaded();
                assertThat(s).contains("EXECUTABLE (4)");
                String attrs = v.tmux.screenWithAttributes();
                // No SGR colour parameter (30-38, 40-48, 90-97, 100-107) anywhere on screen.
                assertThat(attrs).as("no colour at all under %s", env)
                        .doesNotContainPattern("\u001b\\[([0-9]*;)*(3[0-8]|4[0-8]|9[0-7]|10[0-7])[;m]");
                // Monochrome still marks the selected row and the status bar: reverse video.
                assertThat(attrs).as("reverse video under %s", env).containsPattern("\u001b\\[([0-9]*;)*7[;m]");
                v.tmux.save("mono-" + env.get("TERM") + (env.containsKey("NO_COLOR") ? "-nocolor" : ""));
                v.tmux.keys("q");
                assertThat(v.awaitExit()).isZero();
                v.assertTerminalRestored();
            }
        }
    }

    @Test
    void aPlainAsciiLocaleGetsAsciiLines() throws Exception {
        try (ViewSession v = ViewSession.create("ascii", 80, 24)) {
            v.start(Map.of("TERM", "xterm-256color", "LANG", "C", "LC_ALL", "C"), "--refresh", "0");
            String s = v.awaitLoaded();
            assertThat(s).contains("  exe | name | cmdline |").containsPattern("(?m)^>/usr/bin/wget")
                    .contains(" all time | 1/4 | ");
            assertThat(s).doesNotContain("\u2502").doesNotContain("\u203a");
            v.tmux.keys("e");
            v.tmux.await("filter: exe != /usr/bin/wget");
            v.tmux.save("ascii-locale");
            v.tmux.keys("q");
            assertThat(v.awaitExit()).isZero();
            v.assertTerminalRestored();
        }
    }

    @Test
    void dumbTerminalGetsThePrintedTable() throws Exception {
        try (ViewSession v = ViewSession.create("dumb", 80, 24)) {
            v.start(Map.of("TERM", "dumb"), "--units", "B");
            assertThat(v.awaitExit()).isZero();
            String s = v.tmux.screen();
            assertThat(s).containsPattern("/usr/bin/wget\\s+400 B\\s+1000200 B\\s+1000600 B");
            assertThat(s).containsPattern("total \\(all time, 4 rows\\)\\s+" + ViewDb.SENT_ALL + " B\\s+"
                    + ViewDb.RECV_ALL + " B");
            assertThat(v.stderr()).contains("cannot draw full screen");
            v.assertTerminalRestored();
        }
    }

    @Test
    void quittingInTheMiddleOfASlowQueryIsImmediateAndRestoresTheTerminal() throws Exception {
        try (ViewSession v = ViewSession.create("slow", 80, 24)) {
            // Half a million more rows, 100 000 domains: grouping them takes seconds.
            ViewDb.bulk(v.db, 500_000, v.now);
            v.startDefault("--tab", "domain", "--refresh", "0");
            Tmux t = v.tmux;
            String s = t.await("the loading hint", x -> x.contains("DOMAIN loading"), WAIT);
            t.save("slow-loading");
            // The screen is not frozen: keys are handled while the query runs.
            t.keys("u");
            s = t.await("the units changing while loading", x -> x.contains("auto-si") && x.contains("loading"),
                    WAIT);
            assertThat(s).doesNotContain("total ");
            t.keys("q");
            assertThat(v.awaitExit()).isZero();
            v.assertTerminalRestored();
            assertThat(v.stderr()).doesNotContain("Exception");
        }
    }

    @Test
    void ctrlCAndSigtermRestoreTheTerminal() throws Exception {
        try (ViewSession v = ViewSession.create("sigint", 80, 24)) {
            v.startDefault("--refresh", "0");
            v.awaitLoaded();
            v.tmux.keys("C-c");
            assertThat(v.awaitExit()).isZero();
            v.assertTerminalRestored();
        }
        try (ViewSession v = ViewSession.create("sigterm", 80, 24)) {
            v.startDefault("--refresh", "0");
            v.awaitLoaded();
            ProcessHandle view = v.tmux.child().orElseThrow();
            // The shell runs the script, the script runs java.
            ProcessHandle java = view.children().findFirst().orElse(view);
            new ProcessBuilder("kill", "-TERM", Long.toString(java.pid())).start().waitFor();
            assertThat(v.awaitExit()).isEqualTo(143);
            v.assertTerminalRestored();
        }
    }

    @Test
    void ctrlZSuspendsWithTheTerminalRestoredAndFgRedraws() throws Exception {
        try (ViewSession v = ViewSession.create("suspend", 80, 24)) {
            v.startExec(Map.of("TERM", "xterm-256color"), "--units", "B", "--refresh", "0");
            Tmux t = v.tmux;
            v.awaitLoaded();
            t.keys("C-z");
            t.await("Stopped");
            // While stopped the shell has the main screen and its own settings back.
            assertThat(t.format("#{alternate_on}")).isEqualTo("0");
            t.type("stty -a > " + v.dir.resolve("stty-stopped") + "; fg");
            v.awaitLoaded();
            assertThat(java.nio.file.Files.readString(v.dir.resolve("stty-stopped")))
                    .isEqualTo(java.nio.file.Files.readString(v.dir.resolve("stty-before")));
            assertThat(t.format("#{alternate_on}")).isEqualTo("1");
            // Keys work again after the resume.
            t.keys("Down");
            t.await("2/4");
            t.keys("q");
            // Typing before the process is gone would feed its input thread, not the shell.
            long end = System.nanoTime() + WAIT.toNanos();
            while (t.child().isPresent() && System.nanoTime() < end) {
                Tmux.sleep(Duration.ofMillis(50));
            }
            assertThat(t.child()).as("view exited").isEmpty();
            v.afterExec();
            assertThat(v.awaitExit()).isZero();
            v.assertTerminalRestored();
        }
    }

    @Test
    void followsWhatTheDaemonWritesWithoutAKey() throws Exception {
        try (ViewSession v = ViewSession.create("live", 80, 24)) {
            v.startDefault("--units", "B", "--refresh", "1");
            Tmux t = v.tmux;
            v.awaitLoaded();
            awaitRow(t, "/usr/bin/curl", 1500, 27_000);
            // A new window of curl traffic, written as the daemon writes it.
            ViewDb.append(v.db, List.of(ViewDb.row(Instant.now(), ViewDb.curl(), "10.0.0.1", 40100,
                    "93.184.216.34", 443, "example.org", 7, 9)));
            awaitRow(t, "/usr/bin/curl", 1507, 27_009);
            t.await("sent " + (ViewDb.SENT_ALL + 7) + " B");
            t.keys("q");
            assertThat(v.awaitExit()).isZero();
            v.assertTerminalRestored();
        }
    }

    @Test
    void showsTheDaemonsRowsThatAreNotStoredYet() throws Exception {
        try (ViewSession v = ViewSession.create("daemon", 100, 24);
             LiveDaemon d = LiveDaemon.start(v.db, v.dir.resolve("run/peekd.sock"))) {
            long now = Instant.now().getEpochSecond();
            FlowRow open = ViewDb.row(Instant.ofEpochSecond(now), ViewDb.curl(), "10.0.0.1", 40100, "93.184.216.34",
                    443, "example.org", 7, 9);
            d.open.set(List.of(open));
            v.startDefault("--units", "B", "--refresh", "1");
            Tmux t = v.tmux;
            v.awaitLoaded();
            // Only in the daemon's memory, yet on screen, and said to be live.
            String s = awaitRow(t, "/usr/bin/curl", 1507, 27_009);
            assertThat(s).contains("sent " + (ViewDb.SENT_ALL + 7) + " B", "recv " + (ViewDb.RECV_ALL + 9) + " B",
                    "+1 live row");
            t.save("daemon-live-100x24");
            // The window closes: stored first, then the next one opens, as the daemon does it.
            d.write(List.of(open));
            d.open.set(List.of(ViewDb.row(Instant.ofEpochSecond(now + 1), ViewDb.curl(), "10.0.0.1", 40100,
                    "93.184.216.34", 443, "example.org", 1, 2)));
            s = awaitRow(t, "/usr/bin/curl", 1508, 27_011);
            assertThat(s).contains("sent " + (ViewDb.SENT_ALL + 8) + " B", "+1 live row");
            // On the user tab too.
            for (int i = 0; i < Dimension.USER.ordinal(); i++) {
                t.keys("Right");
            }
            awaitRow(t, "alice (1000)", 1508, 27_011);
            t.keys("q");
            assertThat(v.awaitExit()).isZero();
            v.assertTerminalRestored();
        }
    }
}

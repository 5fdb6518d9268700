package io.peekd.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import picocli.CommandLine;

class MainTest {

    @Test
    void theOneCommandTreesNameEveryCommandOfTheWholeTree() {
        Map<String, Class<?>> whole = new LinkedHashMap<>();
        Main.commandLine().getSubcommands().forEach((name, cl) -> {
            if (!name.equals("help")) whole.put(name, cl.getCommandSpec().userObject().getClass());
        });
        assertThat(Main.COMMANDS).isEqualTo(whole);
    }

    @Test
    void aCommandLineNamingOneCommandBuildsOnlyThatOneAndBehavesTheSame() {
        CommandLine one = Main.commandLine("report", "--since", "1h");
        assertThat(one.getSubcommands()).containsOnlyKeys("report");
        assertThat(Main.commandLine("--help").getSubcommands()).containsKeys("report", "daemon", "view", "help");
        assertThat(Main.commandLine("reprt").getSubcommands()).containsKeys("report", "daemon");

        StringWriter a = new StringWriter(), b = new StringWriter();
        int rcA = Main.run(new PrintWriter(a), new PrintWriter(a), "report", "--help");
        CommandLine whole = Main.commandLine();
        whole.setOut(new PrintWriter(b));
        whole.setErr(new PrintWriter(b));
        int rcC = whole.execute("report", "--help");
        b.flush();
        assertThat(rcA).isEqualTo(rcC).isZero();
        assertThat(a.toString()).isEqualTo(b.toString()).contains("Usage: peekd report");

        StringWriter v = new StringWriter();
        assertThat(Main.run(new PrintWriter(v), new PrintWriter(v), "--version")).isZero();
        assertThat(v.toString()).startsWith("peekd ");
        StringWriter typo = new StringWriter();
        assertThat(Main.run(new PrintWriter(typo), new PrintWriter(typo), "reprt")).isEqualTo(2);
        assertThat(typo.toString()).contains("report");
    }
}

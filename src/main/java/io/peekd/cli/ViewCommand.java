package io.peekd.cli;

import io.peekd.bpf.Tty;
import io.peekd.config.Config;
import io.peekd.store.Reader;
import io.peekd.tui.Annotator;
import io.peekd.tui.ByteUnits;
import io.peekd.tui.DaemonFeed;
import io.peekd.tui.Dimension;
import io.peekd.tui.PlainPrinter;
import io.peekd.tui.TimeRange;
import io.peekd.tui.ViewApp;
import java.io.Console;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.util.concurrent.Callable;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "view", mixinStandardHelpOptions = true,
        description = {
                "Browse the traffic history full-screen, like picosnitch view.",
                "One tab per dimension: executables, names, commands, hashes, parents,",
                "users, ports, addresses, domains, containers and time. Each row shows",
                "the bytes sent, received and their total.",
                "",
                "Keys: left/right switch tab; up/down, PgUp/PgDn, Home/End move;",
                "space/enter/f filter on the entry (drill down); e exclude it;",
                "backspace/F/E remove the last filter; t/T time range; h/H step through",
                "history; u/U byte units; r refresh; ? help; q quit.",
                "",
                "Without a terminal that can draw full screen (TERM=dumb, output to a",
                "pipe or file) it prints the starting tab as a table instead.",
                ""})
final class ViewCommand implements Callable<Integer> {
    @Mixin
    ConfigOption config;

    @Option(names = "--tab", paramLabel = "TAB", defaultValue = "exe", converter = TabConverter.class,
            description = "Tab to start on (default: ${DEFAULT-VALUE}): exe, name, cmdline, sha256, pexe, pname,"
                    + " pcmdline, psha256, user, lport, rport, laddr, raddr, domain, container, time.")
    Dimension tab;

    @Option(names = "--range", paramLabel = "RANGE", defaultValue = "all", converter = RangeConverter.class,
            description = "Time range to start with (default: ${DEFAULT-VALUE}):"
                    + " all, 1m, 5m, 15m, 1h, 6h, 1d, 1w, 30d, 1y.")
    TimeRange range;

    @Option(names = "--units", paramLabel = "UNITS", defaultValue = "auto", converter = UnitsConverter.class,
            description = "Byte units (default: ${DEFAULT-VALUE}): auto (1024-based), auto-si (1000-based),"
                    + " B, KiB, MiB, GiB, kB, MB, GB.")
    ByteUnits units;

    @Option(names = "--refresh", paramLabel = "SECONDS", defaultValue = "5",
            description = "Re-read the database and ask the daemon again this often while showing the present,"
                    + " to follow the traffic (default: ${DEFAULT-VALUE}); 0 refreshes only on r.")
    int refresh;

    @Option(names = "--print", description = "Print the starting tab as plain text and exit, even on a terminal.")
    boolean print;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        ViewApp.prepareJLine();
        if (refresh < 0) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                    "--refresh: must be 0 (off) or a number of seconds, got " + refresh);
        }
        Config c = config.load();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Path db = c.paths().db();
        if (!Files.exists(db)) {
            err.println("peekd view: no data yet: " + db + " does not exist (is the daemon running?)");
            err.flush();
            return 1;
        }
        ZoneId zone = ZoneId.systemDefault();
        Reader reader = Reader.open(db);
        Annotator annotator = ViewAnnotator.of(c);
        DaemonFeed daemon = DaemonFeed.at(c.paths().socket());
        Console console = System.console();
        if (print || console == null || !console.isTerminal()) {
            return printed(out, reader, annotator, daemon, zone);
        }
        // Saved before JLine touches the terminal: its own restore loses the line speed.
        Tty.State tty = Tty.save(0).orElse(null);
        Terminal terminal = TerminalBuilder.builder().name("peekd view").system(true).dumb(true)
                .encoding(localeCharset()).build();
        if (!ViewApp.fullScreenCapable(terminal)) {
            terminal.close();
            if (tty != null) {
                tty.restore();
            }
            err.println("peekd view: this terminal (TERM=" + terminal.getType() + ") cannot draw full screen;"
                    + " printing the " + tab.id() + " tab instead");
            err.flush();
            return printed(out, reader, annotator, daemon, zone);
        }
        return ViewApp.run(terminal, tty, reader, annotator, daemon,
                new ViewApp.Options(tab, range, units, Duration.ofSeconds(refresh), zone));
    }

    /**
     * The locale's character set (LANG/LC_ALL), which is what the terminal was set up for;
     * the JVM's default is UTF-8 whatever the locale says. Under LANG=C the view then draws
     * with ASCII only.
     */
    private static Charset localeCharset() {
        try {
            return Charset.forName(System.getProperty("native.encoding", "UTF-8"));
        } catch (IllegalArgumentException e) {
            return StandardCharsets.UTF_8;
        }
    }

    private int printed(PrintWriter out, Reader reader, Annotator annotator, DaemonFeed daemon, ZoneId zone)
            throws Exception {
        try (reader) {
            PlainPrinter.print(out, reader, annotator, daemon, tab, range, units, zone, Instant.now());
        }
        return 0;
    }

    static final class TabConverter implements ITypeConverter<Dimension> {
        @Override
        public Dimension convert(String s) {
            return Dimension.parse(s);
        }
    }

    static final class RangeConverter implements ITypeConverter<TimeRange> {
        @Override
        public TimeRange convert(String s) {
            return TimeRange.parse(s);
        }
    }

    static final class UnitsConverter implements ITypeConverter<ByteUnits> {
        @Override
        public ByteUnits convert(String s) {
            return ByteUnits.parse(s);
        }
    }
}

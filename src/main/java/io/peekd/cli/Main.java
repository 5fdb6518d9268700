package io.peekd.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: {@code peekd <command>}. */
@Command(name = "peekd",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = {
                "peekd shows which executable talked to which domain or IP, how much traffic",
                "moved, and whether the binary changed. Run the daemon as root; the other",
                "commands read its data. peekd COMMAND --help explains each command."},
        subcommands = {DaemonCommand.class, QueryCommand.class, ReportCommand.class, DbCommand.class, StatusCommand.class,
                ViewCommand.class, ExesCommand.class, WebCommand.class, AlertsCommand.class, BenchFloorCommand.class,
                DoctorCommand.class, SystemdCommand.class, InstallCommand.class, UninstallCommand.class, AotTrainCommand.class, BenchHashCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    public static void main(String[] args) {
        boolean server = args.length > 0 && (args[0].equals("daemon") || args[0].equals("web"));
        // A one-shot command speaks through its output and exit code; the library's INFO
        // notes ("GeoIP database ... is not installed") would only clutter stderr. Set
        // lazily: the class runs when something first logs, so a silent command pays nothing.
        if (!server && System.getProperty("java.util.logging.config.file") == null)
            System.setProperty("java.util.logging.config.class", QuietLogging.class.getName());
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (used by tests too). */
    public static int run(String... args) {
        return commandLine(args).execute(args);
    }

    /** Runs a command line with its output sent to the given writers (tests, embedding). */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cl = commandLine(args);
        cl.setOut(out);
        cl.setErr(err);
        int rc = cl.execute(args);
        out.flush();
        err.flush();
        return rc;
    }

    /** The whole command tree: for help, completion, man pages and the AOT training run. */
    static CommandLine commandLine() {
        return handled(new CommandLine(new Main()));
    }

    /**
     * The tree a command line needs. Building every subcommand's model costs picocli a
     * reflective walk over 16 command classes and their option types, most of a short
     * command's start-up; a line that names one command gets a root with that command alone.
     * Anything else (no command, top-level options, help, a typo) gets the whole tree, so
     * usage and "did you mean" messages list everything.
     */
    static CommandLine commandLine(String... args) {
        Class<?> only = args.length == 0 ? null : COMMANDS.get(args[0]);
        if (only == null) return commandLine();
        CommandLine cl = new CommandLine(new Root());
        cl.addSubcommand(args[0], new CommandLine(only));
        return handled(cl);
    }

    /** Must name the same classes as the annotation above (MainTest checks). */
    static final java.util.Map<String, Class<?>> COMMANDS = java.util.Map.ofEntries(
            java.util.Map.entry("daemon", DaemonCommand.class), java.util.Map.entry("query", QueryCommand.class),
            java.util.Map.entry("report", ReportCommand.class), java.util.Map.entry("db", DbCommand.class),
            java.util.Map.entry("status", StatusCommand.class), java.util.Map.entry("view", ViewCommand.class),
            java.util.Map.entry("exes", ExesCommand.class), java.util.Map.entry("web", WebCommand.class),
            java.util.Map.entry("alerts", AlertsCommand.class), java.util.Map.entry("bench-floor", BenchFloorCommand.class),
            java.util.Map.entry("doctor", DoctorCommand.class), java.util.Map.entry("systemd", SystemdCommand.class),
            java.util.Map.entry("install", InstallCommand.class), java.util.Map.entry("uninstall", UninstallCommand.class),
            java.util.Map.entry("aot-train", AotTrainCommand.class), java.util.Map.entry("bench-hash", BenchHashCommand.class));

    /** The root of a one-command tree: the same name, options and version as Main. */
    @Command(name = "peekd", mixinStandardHelpOptions = true, versionProvider = Version.class)
    static final class Root {
    }

    private static CommandLine handled(CommandLine cl) {
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("peekd: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            // A bad config is the user's to fix: exit 2, as for bad usage.
            return ex instanceof ConfigOption.Invalid ? 2 : 1;
        });
        return cl;
    }
}

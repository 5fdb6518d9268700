package io.peekd.cli;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** Entry point: {@code peekd <command>}. */
@Command(name = "peekd",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = {
                "peekd shows which executable talked to which domain or IP, how much traffic moved,",
                "and whether the binary changed. Run the daemon as root; the other commands read its data."},
        subcommands = {DaemonCommand.class, QueryCommand.class, ReportCommand.class, DbCommand.class, StatusCommand.class,
                ViewCommand.class, ExesCommand.class, WebCommand.class, AlertsCommand.class, BenchFloorCommand.class,
                DoctorCommand.class, SystemdCommand.class, InstallCommand.class, UninstallCommand.class, AotTrainCommand.class, BenchHashCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (used by tests too). */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    /** Runs a command line with its output sent to the given writers (tests, embedding). */
    public static int run(java.io.PrintWriter out, java.io.PrintWriter err, String... args) {
        CommandLine cl = commandLine();
        cl.setOut(out);
        cl.setErr(err);
        int rc = cl.execute(args);
        out.flush();
        err.flush();
        return rc;
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("peekd: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            // A bad config is the user's to fix: exit 2, as for bad usage.
            return ex instanceof ConfigOption.Invalid ? 2 : 1;
        });
        return cl;
    }
}

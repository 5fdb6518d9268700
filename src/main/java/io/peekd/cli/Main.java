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
        subcommands = {DaemonCommand.class, QueryCommand.class, StatusCommand.class, CommandLine.HelpCommand.class})
public final class Main {
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs a command line and returns its exit code (used by tests too). */
    public static int run(String... args) {
        return commandLine().execute(args);
    }

    static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionExceptionHandler((ex, cmd, parsed) -> {
            cmd.getErr().println("peekd: " + (ex.getMessage() == null ? ex.toString() : ex.getMessage()));
            return 1;
        });
        return cl;
    }
}

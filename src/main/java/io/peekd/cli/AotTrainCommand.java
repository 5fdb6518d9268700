package io.peekd.cli;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.store.Store;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The training run for the JDK's AOT cache (-XX:AOTCacheOutput): does what
 * the everyday commands do (parse every command line, open SQLite, write and
 * query rows, print JSON and tables) on a throw-away database, so their
 * classes are loaded and linked ahead of time. Hidden: packaging runs it.
 */
@Command(name = "aot-train", hidden = true, description = "Exercise the CLI for the AOT cache (used by packaging).")
final class AotTrainCommand implements Callable<Integer> {
    @Override
    public Integer call() throws Exception {
        Path dir = Files.createTempDirectory("peekd-aot-");
        try {
            Path cfg = dir.resolve("config.toml");
            Files.writeString(cfg, "[paths]\ndata_dir = \"%s\"\nrun_dir = \"%s\"\nlog_dir = \"%s\"\n".formatted(dir, dir, dir));
            try (Store s = Store.open(dir.resolve("peekd.db"))) {
                Identity id = new Identity("/usr/bin/curl", "curl", "curl -s x", null, 1, "/usr/bin/bash", "bash", "bash",
                        null, 0, 0, "root", null, null);
                s.writer().submit(List.of(new FlowRow(Instant.now(), id, "tcp", 4, "127.0.0.1", 40000, "127.0.0.1", 443,
                        null, null, null, 100, 200, 1)));
                s.writer().flush(Duration.ofSeconds(30));
            }
            StringWriter sink = new StringWriter();
            PrintWriter out = new PrintWriter(sink);
            List<String[]> runs = new ArrayList<>();
            runs.add(new String[] {"query", "--json", "--since", "1h", "--config", cfg.toString()});
            runs.add(new String[] {"query", "--since", "1h", "--config", cfg.toString()});
            runs.add(new String[] {"status", "--config", cfg.toString()});
            runs.add(new String[] {"--help"});
            runs.add(new String[] {"--version"});
            for (CommandLine sub : Main.commandLine().getSubcommands().values())
                runs.add(new String[] {sub.getCommandName(), "--help"});
            for (String[] args : runs) Main.run(out, out, args);
            return 0;
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a temp dir left behind is harmless
            }
        }
    }
}

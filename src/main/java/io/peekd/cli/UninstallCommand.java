package io.peekd.cli;

import io.peekd.config.Config;
import io.peekd.config.ConfigException;
import io.peekd.config.ConfigLoader;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "uninstall", mixinStandardHelpOptions = true,
        description = {"Remove what peekd install put in place.",
                "peekd install keeps the list in PREFIX/lib/peekd/installed-files.",
                "The config and the traffic history stay unless asked: --purge also removes the config, logs and",
                "runtime files; --purge-data also removes the database and state in the data directory."})
final class UninstallCommand implements Callable<Integer> {
    @Option(names = "--prefix", paramLabel = "DIR", description = "The prefix given to install (default: ${DEFAULT-VALUE}).")
    Path prefix = Path.of("/usr/local");

    @Option(names = "--purge", description = "Also remove the config file, log_dir and run_dir.")
    boolean purge;

    @Option(names = "--purge-data", description = "Also remove data_dir (the whole traffic history).")
    boolean purgeData;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException, InterruptedException {
        PrintWriter out = spec.commandLine().getOut();
        Path manifest = prefix.resolve("lib/peekd").resolve(InstallCommand.MANIFEST);
        if (!Files.exists(manifest)) {
            spec.commandLine().getErr().println("peekd: nothing to uninstall under " + prefix + " (no " + manifest
                    + "); for the Debian package use: apt remove peekd");
            return 1;
        }
        List<String> lines = Files.readAllLines(manifest);
        List<Path> files = lines.stream().filter(l -> l.startsWith("file ")).map(l -> Path.of(l.substring(5))).toList();
        Path config = lines.stream().filter(l -> l.startsWith("config ")).map(l -> Path.of(l.substring(7))).findFirst().orElse(null);
        Config c = loadQuietly(config);
        boolean systemd = Files.isDirectory(Path.of("/run/systemd/system"));
        if (systemd && files.stream().anyMatch(p -> p.getFileName().toString().equals("peekd.service"))) {
            InstallCommand.run(List.of("systemctl", "disable", "--now", "peekd.service"));
            out.println("stopped   peekd.service");
        }
        for (Path f : files)
            if (Files.deleteIfExists(f)) out.println("removed   " + f);
        if (config != null && !purge) out.println("kept      " + config + " (--purge removes it)");
        if (config != null && purge && Files.deleteIfExists(config)) out.println("removed   " + config);
        Path lib = prefix.resolve("lib/peekd");
        // The SQLite library peekd keeps beside the jar (written after install, so not in the manifest).
        if (Files.isDirectory(lib.resolve("native"))) deleteTree(lib.resolve("native"), out);
        try (Stream<Path> s = Files.list(lib)) {
            if (s.findAny().isEmpty()) Files.delete(lib);
        }
        if (config != null && purge) deleteIfEmpty(config.getParent());
        // A config that no longer parses gives no paths to follow: better to leave dirs than guess.
        if (purge && c != null) {
            deleteTree(c.paths().logDir(), out);
            deleteTree(c.paths().runDir(), out);
        }
        if (c == null) {
            out.println("kept      log, run and data directories: " + config + " does not parse, so they are unknown");
        } else if (purgeData) {
            deleteTree(c.paths().dataDir(), out);
        } else {
            out.println("kept      the traffic history in " + c.paths().dataDir() + " (--purge-data removes it)");
        }
        if (systemd) InstallCommand.run(List.of("systemctl", "daemon-reload"));
        return 0;
    }

    private static Config loadQuietly(Path config) {
        try {
            return config == null || !Files.exists(config) ? Config.defaults() : ConfigLoader.load(config);
        } catch (ConfigException e) {
            return null;
        }
    }

    private static void deleteIfEmpty(Path dir) throws IOException {
        if (dir == null || !Files.isDirectory(dir)) return;
        try (Stream<Path> s = Files.list(dir)) {
            if (s.findAny().isEmpty()) Files.delete(dir);
        }
    }

    private static void deleteTree(Path dir, PrintWriter out) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
        out.println("removed   " + dir);
    }
}

package io.peekd.daemon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;

/**
 * error.log, in picosnitch's sense: what the operator must know (losses,
 * load errors, hash failures). Each line is also logged; a failure to write
 * the file is logged once and never stops the daemon.
 */
public final class ErrorLog {
    private static final System.Logger LOG = System.getLogger("peekd");
    private final Path file;
    private boolean warned;
    private volatile java.util.function.Consumer<String> listener = m -> { };

    public ErrorLog(Path file) {
        this.file = file;
    }

    /** Also hands every line to {@code l} (desktop notifications, alerts); it must not block or throw. */
    public void listen(java.util.function.Consumer<String> l) {
        this.listener = l;
    }

    public void error(String message) {
        write(message);
        try {
            listener.accept(message);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "error listener failed: " + e);
        }
    }

    /** Writes the line without handing it to the listener (the caller tells subscribers itself). */
    public void record(String message) {
        write(message);
    }

    private synchronized void write(String message) {
        LOG.log(System.Logger.Level.ERROR, message);
        String line = Instant.now().truncatedTo(ChronoUnit.SECONDS) + " " + message.replace('\n', ' ') + "\n";
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, line, StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            if (!warned) LOG.log(System.Logger.Level.ERROR, "cannot write " + file + ": " + e.getMessage());
            warned = true;
        }
    }
}

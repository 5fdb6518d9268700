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
    private final java.util.List<java.util.function.Consumer<String>> listeners = new java.util.concurrent.CopyOnWriteArrayList<>();

    public ErrorLog(Path file) {
        this.file = file;
    }

    /** Also tells {@code listener} each line (alert rules with on_error); it must hand off, not block. */
    public void addListener(java.util.function.Consumer<String> listener) {
        listeners.add(listener);
    }

    public void error(String message) {
        write(message);
        // Outside the lock: a listener that logs an error of its own must not deadlock.
        for (var l : listeners) {
            try {
                l.accept(message);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "error listener failed: " + e);
            }
        }
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

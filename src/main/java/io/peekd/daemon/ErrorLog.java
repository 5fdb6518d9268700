package io.peekd.daemon;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * error.log, in picosnitch's sense: what the operator must know (losses,
 * load errors, hash failures). Each line is also logged and handed to the
 * listeners (desktop notifications, alert rules with on_error); a failure to
 * write the file is logged once and never stops the daemon.
 */
public final class ErrorLog {
    private static final System.Logger LOG = System.getLogger("peekd");
    private final Path file;
    private boolean warned;
    private final List<Consumer<String>> listeners = new CopyOnWriteArrayList<>();

    public ErrorLog(Path file) {
        this.file = file;
    }

    /** Also tells {@code listener} each line; it must hand off, not block. */
    public void addListener(Consumer<String> listener) {
        listeners.add(listener);
    }

    /** Same as {@link #addListener}. */
    public void listen(Consumer<String> listener) {
        addListener(listener);
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

    /** Writes the line without handing it to the listeners (the caller tells subscribers itself). */
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

package io.peekd.logging;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Clock;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.ErrorManager;
import java.util.logging.Handler;
import java.util.logging.LogRecord;

/**
 * Writes {@code peekd.log} and starts a new one each UTC day: yesterday's file
 * becomes {@code peekd.log.YYYY-MM-DD}, and only the newest {@code keep} of
 * those stay. A disk problem is reported once to stderr (the journal) and the
 * daemon goes on; the handler tries again at the next record.
 */
final class DailyFileHandler extends Handler {
    private final Path file;
    private final int keep;
    private final Clock clock;
    private OutputStream out;
    private LocalDate day;
    private boolean failing;

    DailyFileHandler(Path file, int keep, Clock clock) {
        this.file = file;
        this.keep = keep;
        this.clock = clock;
        setFormatter(new JsonLineFormatter());
    }

    @Override
    public synchronized void publish(LogRecord r) {
        if (!isLoggable(r)) return;
        String line;
        try {
            line = getFormatter().format(r);
        } catch (RuntimeException e) {
            reportError("cannot format a log record", e, ErrorManager.FORMAT_FAILURE);
            return;
        }
        try {
            LocalDate today = LocalDate.now(clock.withZone(ZoneOffset.UTC));
            if (out == null || !today.equals(day)) open(today);
            out.write(line.getBytes(StandardCharsets.UTF_8));
            out.flush();
            failing = false;
        } catch (IOException e) {
            closeQuietly();
            if (!failing) System.err.println("peekd: cannot write " + file + ": " + e.getMessage());
            failing = true;
        }
    }

    /**
     * Opens today's file, first moving aside one from an earlier day: the day
     * this handler wrote it, or, at start, the day it was last modified.
     */
    private void open(LocalDate today) throws IOException {
        LocalDate previous = day;
        closeQuietly();
        Files.createDirectories(file.getParent());
        if (Files.exists(file)) {
            LocalDate written = previous != null ? previous
                    : LocalDate.ofInstant(Files.getLastModifiedTime(file).toInstant(), ZoneOffset.UTC);
            if (written.isBefore(today)) {
                Files.move(file, file.resolveSibling(file.getFileName() + "." + written), StandardCopyOption.REPLACE_EXISTING);
                prune();
            }
        }
        out = Files.newOutputStream(file, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        day = today;
    }

    /** Keeps the newest {@code keep} rolled files; ISO dates sort by name. */
    private void prune() throws IOException {
        List<Path> rolled = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(file.getParent(), file.getFileName() + ".????-??-??")) {
            ds.forEach(rolled::add);
        }
        rolled.sort(null);
        for (int i = 0; i < rolled.size() - keep; i++) Files.deleteIfExists(rolled.get(i));
    }

    private void closeQuietly() {
        if (out == null) return;
        try {
            out.close();
        } catch (IOException ignored) {
            // the stream is gone either way
        }
        out = null;
    }

    @Override
    public synchronized void flush() {
        try {
            if (out != null) out.flush();
        } catch (IOException ignored) {
            // publish() reports write problems
        }
    }

    @Override
    public synchronized void close() {
        closeQuietly();
    }
}

package io.peekd.textlog;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import io.peekd.flow.Subscriber;

/**
 * {@code log_dir/conn.log} ({@code database.text_log}): one line per stored row, for tools
 * that follow a file. Fields, comma-separated, in picosnitch's order: entry time, sent bytes,
 * received bytes, executable, process name, cmdline, sha256, parent executable, parent name,
 * parent cmdline, parent sha256, user id, local port, remote port, local address, remote
 * address, domain. Commas, newlines (CR and LF) and NUL characters are removed from values,
 * so a line can always be split on commas. Unknown values and ports not logged are empty.
 * The time is the window's start in ISO-8601 UTC.
 *
 * <p>The file is rotated at midnight UTC to {@code conn.log.YYYY-MM-DD} (the date of the
 * lines it holds) and rotated files older than {@code keepDays} are deleted. Privacy options
 * are honoured for free: the rows arrive with the fields already removed.
 */
public final class ConnLog implements Subscriber {

    public static final String FILE = "conn.log";
    private static final Pattern ROTATED = Pattern.compile(Pattern.quote(FILE) + "\\.(\\d{4}-\\d{2}-\\d{2})(\\.\\d+)?");
    private static final DateTimeFormatter DAY = DateTimeFormatter.ISO_LOCAL_DATE;

    private final Path dir;
    private final int keepDays;
    private final Clock clock;
    private final Consumer<String> errors;
    private BufferedWriter out;
    private LocalDate day;
    private boolean failing;
    private long linesWritten;

    /**
     * @param keepDays rotated files older than this many days are deleted
     * @param errors   where failures to write go (the daemon's error log); each streak once
     */
    public ConnLog(Path dir, int keepDays, Clock clock, Consumer<String> errors) {
        this.dir = dir;
        this.keepDays = keepDays;
        this.clock = clock;
        this.errors = errors;
    }

    @Override
    public String name() {
        return "conn-log";
    }

    @Override
    public synchronized void onBatch(Instant window, List<FlowRow> rows) {
        try {
            ensureOpen();
            StringBuilder sb = new StringBuilder(rows.size() * 200);
            for (FlowRow r : rows) {
                line(r, sb);
            }
            out.write(sb.toString());
            out.flush();
            linesWritten += rows.size();
            if (failing) {
                failing = false;
                errors.accept("writing " + dir.resolve(FILE) + " works again");
            }
        } catch (IOException | RuntimeException e) {
            if (!failing) {
                failing = true;
                errors.accept("cannot write " + dir.resolve(FILE) + " (" + e.getMessage() + "); the rows of this"
                        + " and later windows are missing from it until it works again (the database has them)");
            }
            closeQuietly();
        }
    }

    synchronized long linesWritten() {
        return linesWritten;
    }

    /** One line, with the separator and line breaks taken out of every value. */
    static void line(FlowRow r, StringBuilder sb) {
        Identity id = r.id();
        sb.append(r.time().truncatedTo(ChronoUnit.SECONDS)).append(',')
                .append(r.sent()).append(',')
                .append(r.recv()).append(',');
        field(sb, id == null ? null : id.exe());
        field(sb, id == null ? null : id.name());
        field(sb, id == null ? null : id.cmdline());
        field(sb, id == null ? null : id.sha256());
        field(sb, id == null ? null : id.pexe());
        field(sb, id == null ? null : id.pname());
        field(sb, id == null ? null : id.pcmdline());
        field(sb, id == null ? null : id.psha256());
        field(sb, id == null ? null : Integer.toUnsignedString(id.uid()));
        field(sb, r.lport() < 0 ? null : Integer.toString(r.lport()));
        field(sb, r.rport() < 0 ? null : Integer.toString(r.rport()));
        field(sb, r.laddr());
        field(sb, r.raddr());
        clean(sb, r.domain());
        sb.append('\n');
    }

    private static void field(StringBuilder sb, String v) {
        clean(sb, v);
        sb.append(',');
    }

    private static void clean(StringBuilder sb, String v) {
        if (v == null) {
            return;
        }
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c != ',' && c != '\n' && c != '\r' && c != '\0') {
                sb.append(c);
            }
        }
    }

    private void ensureOpen() throws IOException {
        LocalDate today = LocalDate.ofInstant(clock.instant(), ZoneOffset.UTC);
        if (out != null && today.equals(day)) {
            return;
        }
        closeQuietly();
        Files.createDirectories(dir);
        Path current = dir.resolve(FILE);
        if (Files.exists(current)) {
            // A file from an earlier day (this run's, or one before a restart) moves aside first.
            // The day this run opened it, or for a file from before a restart, the day it was last written.
            LocalDate written = day != null ? day
                    : LocalDate.ofInstant(Files.getLastModifiedTime(current).toInstant(), ZoneOffset.UTC);
            if (written.isBefore(today)) {
                Files.move(current, free(dir.resolve(FILE + "." + DAY.format(written))));
            }
        }
        if (!Files.exists(current)) {
            // Command lines can hold secrets; the file is as private as the database.
            Files.createFile(current, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        }
        out = new BufferedWriter(new OutputStreamWriter(Files.newOutputStream(current, StandardOpenOption.APPEND),
                StandardCharsets.UTF_8));
        day = today;
        deleteOld(today);
    }

    /** {@code base}, or {@code base.1}, {@code base.2}... when it exists already. */
    private static Path free(Path base) {
        Path p = base;
        for (int i = 1; Files.exists(p); i++) {
            p = base.resolveSibling(base.getFileName() + "." + i);
        }
        return p;
    }

    private void deleteOld(LocalDate today) {
        LocalDate oldest = today.minusDays(keepDays);
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, FILE + ".*")) {
            for (Path p : ds) {
                Matcher m = ROTATED.matcher(p.getFileName().toString());
                if (m.matches() && LocalDate.parse(m.group(1)).isBefore(oldest)) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException | RuntimeException e) {
            errors.accept("cannot delete old " + FILE + " files in " + dir + ": " + e.getMessage());
        }
    }

    private void closeQuietly() {
        if (out != null) {
            try {
                out.close();
            } catch (IOException ignored) {
                // already failing, or closing anyway
            }
            out = null;
        }
    }

    @Override
    public synchronized void close() {
        closeQuietly();
    }
}

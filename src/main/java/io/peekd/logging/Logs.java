package io.peekd.logging;

import io.peekd.config.Config;
import java.nio.file.Path;
import java.time.Clock;
import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Handler;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * The daemon's logging: everything goes through System.Logger to
 * java.util.logging, and from there to {@code log_dir/peekd.log} (JSON lines,
 * daily files, {@value #KEEP_DAYS} days kept) and to stderr, which systemd
 * puts in the journal. Commands other than {@code daemon} never call this and
 * keep the JDK's default (warnings to stderr).
 */
public final class Logs {
    /** Rolled daily files kept besides today's. */
    public static final int KEEP_DAYS = 14;

    private Logs() {
    }

    /** Replaces the root handlers; safe to call again (the old handlers are closed). */
    public static synchronized void configure(Path logFile, Config.Log.Level level) {
        configure(logFile, level, Clock.systemUTC());
    }

    static synchronized void configure(Path logFile, Config.Log.Level level, Clock clock) {
        Logger root = LogManager.getLogManager().getLogger("");
        for (Handler h : root.getHandlers()) {
            root.removeHandler(h);
            h.close();
        }
        DailyFileHandler file = new DailyFileHandler(logFile, KEEP_DAYS, clock);
        ConsoleHandler console = new ConsoleHandler();
        console.setFormatter(new Formatter() {
            @Override
            public String format(LogRecord r) {
                // The journal adds its own time stamp.
                String msg = Levels.name(r.getLevel()) + " " + formatMessage(r).replace('\n', ' ') + "\n";
                return r.getThrown() == null ? msg : msg + "  " + r.getThrown() + "\n";
            }
        });
        root.addHandler(file);
        root.addHandler(console);
        setLevel(level);
    }

    /** Changes how much is logged, at once (SIGHUP). */
    public static synchronized void setLevel(Config.Log.Level level) {
        Logger root = LogManager.getLogManager().getLogger("");
        root.setLevel(Levels.toJul(level));
        for (Handler h : root.getHandlers()) h.setLevel(Levels.toJul(level));
    }
}

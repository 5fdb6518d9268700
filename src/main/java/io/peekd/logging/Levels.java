package io.peekd.logging;

import io.peekd.config.Config;
import java.util.logging.Level;

/** Config levels (error, warn, info, debug, trace) to java.util.logging and back. */
final class Levels {
    private Levels() {
    }

    /** System.Logger maps DEBUG to FINE and TRACE to FINER; ERROR to SEVERE, WARNING to WARNING. */
    static Level toJul(Config.Log.Level l) {
        return switch (l) {
            case ERROR -> Level.SEVERE;
            case WARN -> Level.WARNING;
            case INFO -> Level.INFO;
            case DEBUG -> Level.FINE;
            case TRACE -> Level.FINEST;
        };
    }

    static String name(Level l) {
        int v = l.intValue();
        if (v >= Level.SEVERE.intValue()) return "ERROR";
        if (v >= Level.WARNING.intValue()) return "WARN";
        if (v >= Level.INFO.intValue()) return "INFO";
        if (v >= Level.FINE.intValue()) return "DEBUG";
        return "TRACE";
    }
}

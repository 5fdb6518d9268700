package io.peekd.alert;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGHUP for alert reloads. {@code sun.misc.Signal} (module jdk.unsupported) is the only way
 * the JDK catches it. Without a handler the JVM treats SIGHUP as a shutdown, so the handler
 * stays installed for the life of the process once set; a handler someone else installed
 * before it is still called after ours.
 */
final class Hangup {
    private static final List<Runnable> LISTENERS = new CopyOnWriteArrayList<>();
    private static boolean installed;
    private static SignalHandler previous;

    private Hangup() {
    }

    /** Adds a listener; false when SIGHUP cannot be caught here (e.g. the JVM runs with -Xrs). */
    static synchronized boolean add(Runnable listener) {
        if (!installed) {
            try {
                previous = Signal.handle(new Signal("HUP"), Hangup::deliver);
                installed = true;
            } catch (IllegalArgumentException | UnsupportedOperationException e) {
                return false;
            }
        }
        LISTENERS.add(listener);
        return true;
    }

    static void remove(Runnable listener) {
        LISTENERS.remove(listener);
    }

    /** Runs on the JVM's signal thread: listeners only hand work off. */
    private static void deliver(Signal s) {
        for (Runnable r : LISTENERS) {
            try {
                r.run();
            } catch (RuntimeException e) {
                System.getLogger("peekd.alerts").log(System.Logger.Level.ERROR, "SIGHUP listener failed: " + e);
            }
        }
        SignalHandler p = previous;
        // The JVM's own handler (shutdown on HUP) and SIG_DFL/SIG_IGN come back as sun.misc classes: never chain to those.
        if (p != null && !p.getClass().getName().startsWith("sun.misc.")) {
            try {
                p.handle(s);
            } catch (RuntimeException e) {
                System.getLogger("peekd.alerts").log(System.Logger.Level.ERROR, "previous SIGHUP handler failed: " + e);
            }
        }
    }
}

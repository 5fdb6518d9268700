package io.peekd.systemd;

import sun.misc.Signal;

/**
 * POSIX signals for the daemon. {@code sun.misc.Signal} (module
 * jdk.unsupported) is the JDK's only way to catch SIGHUP; it is supported in
 * practice and included in the runtime image. Handlers run on the JVM's
 * signal thread: they must only hand work off, never block.
 */
public final class Signals {
    private Signals() {
    }

    /** Runs {@code action} on each delivery of {@code name} ("HUP", "TERM", "INT"). */
    public static void on(String name, Runnable action) {
        Signal.handle(new Signal(name), s -> {
            try {
                action.run();
            } catch (RuntimeException e) {
                System.getLogger("peekd").log(System.Logger.Level.ERROR, "SIG" + name + " handler failed: " + e);
            }
        });
    }
}

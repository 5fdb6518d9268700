package io.peekd.report;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/** How wide the user's terminal is, so that a table never wraps. */
public final class Terminal {

    private Terminal() {
    }

    /**
     * Columns of the terminal on standard output, or 0 when output is not a terminal (a pipe
     * or file gets full lines). {@code $COLUMNS} wins when set; otherwise {@code stty} asks
     * the terminal itself.
     */
    public static int width() {
        if (System.console() == null || !System.console().isTerminal()) {
            return 0;
        }
        String env = System.getenv("COLUMNS");
        if (env != null) {
            try {
                int w = Integer.parseInt(env.strip());
                if (w > 0) {
                    return w;
                }
            } catch (NumberFormatException ignored) {
                // fall through to stty
            }
        }
        File tty = new File("/dev/tty");
        if (!tty.canRead()) {
            return 80;
        }
        try {
            Process p = new ProcessBuilder("stty", "size").redirectInput(tty).redirectErrorStream(true).start();
            if (!p.waitFor(2, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return 80;
            }
            String[] rc = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip().split("\\s+");
            int w = rc.length == 2 ? Integer.parseInt(rc[1]) : 0;
            return w > 0 ? w : 80;
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return 80;
        }
    }
}

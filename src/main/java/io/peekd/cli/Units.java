package io.peekd.cli;

import java.util.Locale;

/** Human byte units for tables. */
final class Units {
    private static final String[] IEC = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};

    private Units() {
    }

    static String bytes(long n) {
        if (n < 1024) return n + " B";
        double v = n;
        int u = 0;
        while (v >= 1024 && u < IEC.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, IEC[u]);
    }
}

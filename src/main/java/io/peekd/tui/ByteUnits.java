package io.peekd.tui;

import java.util.Locale;

/** How byte counts are written; {@code u}/{@code U} cycle through them. */
public enum ByteUnits {
    AUTO("auto", 1024, null),
    AUTO_SI("auto-si", 1000, null),
    B("B", 1, "B"),
    KIB("KiB", 1024, "KiB"),
    MIB("MiB", 1024L * 1024, "MiB"),
    GIB("GiB", 1024L * 1024 * 1024, "GiB"),
    KB("kB", 1000, "kB"),
    MB("MB", 1000L * 1000, "MB"),
    GB("GB", 1000L * 1000 * 1000, "GB");

    private static final String[] IEC = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    private static final String[] SI = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};

    private final String id;
    private final long divisor;
    private final String suffix;

    ByteUnits(String id, long divisor, String suffix) {
        this.id = id;
        this.divisor = divisor;
        this.suffix = suffix;
    }

    public String id() {
        return id;
    }

    String format(long n) {
        if (this == B) {
            return n + " B";
        }
        if (suffix != null) {
            return String.format(Locale.ROOT, "%.2f %s", (double) n / divisor, suffix);
        }
        String[] names = this == AUTO ? IEC : SI;
        if (n < divisor) {
            return n + " B";
        }
        double v = n;
        int u = 0;
        while (v >= divisor && u < names.length - 1) {
            v /= divisor;
            u++;
        }
        // Three significant digits, as a column of mixed sizes reads best.
        return String.format(Locale.ROOT, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, names[u]);
    }

    ByteUnits next() {
        ByteUnits[] all = values();
        return all[(ordinal() + 1) % all.length];
    }

    ByteUnits previous() {
        ByteUnits[] all = values();
        return all[(ordinal() + all.length - 1) % all.length];
    }

    public static ByteUnits parse(String s) {
        for (ByteUnits u : values()) {
            // Case-insensitive is still unambiguous: kib/kb, mib/mb and gib/gb differ.
            if (u.id.equalsIgnoreCase(s.trim())) {
                return u;
            }
        }
        StringBuilder ids = new StringBuilder();
        for (ByteUnits u : values()) {
            ids.append(ids.isEmpty() ? "" : ", ").append(u.id);
        }
        throw new IllegalArgumentException("unknown units \"" + s + "\"; one of " + ids);
    }
}

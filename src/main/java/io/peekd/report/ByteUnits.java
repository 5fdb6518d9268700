package io.peekd.report;

import java.util.Locale;

/** Byte counts for people: binary (KiB), decimal (kB), or plain bytes for exact reading. */
public enum ByteUnits {
    IEC, SI, BYTES;

    private static final String[] IEC_NAMES = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    private static final String[] SI_NAMES = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};

    /** @throws IllegalArgumentException naming the choices */
    public static ByteUnits parse(String s) {
        return switch (s.strip().toLowerCase(Locale.ROOT)) {
            case "iec", "binary", "kib" -> IEC;
            case "si", "decimal", "kb" -> SI;
            case "bytes", "b", "raw" -> BYTES;
            default -> throw new IllegalArgumentException("unknown units \"" + s + "\"; choose iec (KiB, MiB: powers of 1024),"
                    + " si (kB, MB: powers of 1000) or bytes");
        };
    }

    public String format(long n) {
        if (this == BYTES) {
            return Long.toString(n);
        }
        int base = this == IEC ? 1024 : 1000;
        String[] names = this == IEC ? IEC_NAMES : SI_NAMES;
        if (n < base) {
            return n + " B";
        }
        double v = n;
        int u = 0;
        while (v >= base && u < names.length - 1) {
            v /= base;
            u++;
        }
        return String.format(Locale.ROOT, v < 10 ? "%.2f %s" : v < 100 ? "%.1f %s" : "%.0f %s", v, names[u]);
    }
}

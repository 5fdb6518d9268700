package io.peekd.metrics;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Writes the Prometheus text exposition format (version 0.0.4): one HELP and
 * one TYPE line per family, then its samples. Names and label names are
 * checked, label values escaped, so a hostile executable path cannot break a
 * scrape.
 */
public final class PromText {
    /** What {@code Content-Type} a scrape of this text carries. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");

    public enum Type {
        COUNTER, GAUGE;

        String text() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final StringBuilder out = new StringBuilder(4096);
    private final Map<String, Type> families = new LinkedHashMap<>();
    private String current;

    /** Starts a family; its samples must follow before the next family starts. */
    public PromText family(String name, Type type, String help) {
        if (!NAME.matcher(name).matches()) throw new IllegalArgumentException("bad metric name " + name);
        if (families.putIfAbsent(name, type) != null) throw new IllegalArgumentException("family " + name + " written twice");
        current = name;
        out.append("# HELP ").append(name).append(' ').append(help.replace("\\", "\\\\").replace("\n", "\\n")).append('\n');
        out.append("# TYPE ").append(name).append(' ').append(type.text()).append('\n');
        return this;
    }

    /** A sample without labels in the current family. */
    public PromText sample(double value) {
        return sample(Map.of(), value);
    }

    /** A sample with labels (iteration order is kept) in the current family. */
    public PromText sample(Map<String, String> labels, double value) {
        if (current == null) throw new IllegalStateException("sample before family");
        out.append(current);
        if (!labels.isEmpty()) {
            out.append('{');
            boolean first = true;
            for (var e : labels.entrySet()) {
                if (!LABEL.matcher(e.getKey()).matches()) throw new IllegalArgumentException("bad label name " + e.getKey());
                if (!first) out.append(',');
                first = false;
                out.append(e.getKey()).append("=\"").append(escape(e.getValue())).append('"');
            }
            out.append('}');
        }
        out.append(' ').append(number(value)).append('\n');
        return this;
    }

    /** Shorthand for a family with a single unlabeled sample. */
    public PromText single(String name, Type type, String help, double value) {
        return family(name, type, help).sample(value);
    }

    static String escape(String v) {
        StringBuilder b = new StringBuilder(v.length());
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            switch (c) {
                case '\\' -> b.append("\\\\");
                case '"' -> b.append("\\\"");
                case '\n' -> b.append("\\n");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    static String number(double v) {
        if (Double.isNaN(v)) return "NaN";
        if (Double.isInfinite(v)) return v > 0 ? "+Inf" : "-Inf";
        if (v == Math.rint(v) && Math.abs(v) < 1e15) return Long.toString((long) v);
        return Double.toString(v);
    }

    @Override
    public String toString() {
        return out.toString();
    }
}

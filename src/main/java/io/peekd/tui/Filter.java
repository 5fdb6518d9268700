package io.peekd.tui;

import java.util.List;
import java.util.Objects;

import io.peekd.flow.FlowRow;

/**
 * One step of the drill-down: keep only rows whose key on {@code dim} is (or, when
 * {@code exclude}, is not) {@code key}. A time filter covers the bucket
 * {@code [key, key + width)} in epoch seconds.
 *
 * @param label how the key was shown when the filter was made
 * @param from  the tab the filter was made on, so that removing it goes back there
 */
record Filter(Dimension dim, Object key, long width, boolean exclude, String label, Dimension from) {

    /** Appends this filter's SQL condition and its arguments. */
    String sql(List<Object> args) {
        if (dim == Dimension.TIME) {
            long start = (Long) key;
            args.add(start);
            args.add(start + width);
            return (exclude ? "NOT " : "") + "(f.time >= ? AND f.time < ?)";
        }
        // IS compares NULL like a value, so "(unknown)" can be filtered on too.
        args.add(key);
        return dim.column() + (exclude ? " IS NOT ?" : " IS ?");
    }

    /** The same condition as {@link #sql} over a row the daemon has not stored yet. */
    boolean matches(FlowRow r) {
        boolean hit;
        if (dim == Dimension.TIME) {
            long t = r.time().getEpochSecond(), start = (Long) key;
            hit = t >= start && t < start + width;
        } else {
            hit = Objects.equals(dim.key(r), key);
        }
        return hit != exclude;
    }

    /** e.g. {@code exe = /usr/bin/curl} or {@code rport ≠ 443}. */
    String describe(boolean unicode) {
        String op = exclude ? (unicode ? " \u2260 " : " != ") : " = ";
        return dim.id() + op + label;
    }
}

package io.peekd.tui;

import java.time.ZoneId;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Everything the screen shows, changed only on the screen thread: the tab, the filter
 * stack, the time range and history step, the byte units, the cursor, and the latest
 * page. Keys turn into state changes here; {@link #wanted()} says which query the state
 * calls for, and {@link #accept} takes the query thread's answers.
 */
final class ViewModel {

    /** Pages kept for instant tab switching; they go stale together at the next refresh. */
    private static final int CACHE = 64;

    private final ZoneId zone;
    private final LongSupplier clock;
    private Dimension tab;
    private final List<Filter> filters = new ArrayList<>();
    private TimeRange range;
    private int offset;
    private ByteUnits units;
    private long now;

    private final Map<ViewQuery, Page> cache = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ViewQuery, Page> e) {
            return size() > CACHE;
        }
    };
    private Page shown;
    private ViewQuery requested;
    private boolean loading;
    private String error;
    private String message;
    private boolean help;

    private final Map<Dimension, Object> cursorKey = new EnumMap<>(Dimension.class);
    private final Map<Dimension, Boolean> cursorSet = new EnumMap<>(Dimension.class);
    private int cursor;
    private int top;
    private int visibleRows = 10;

    ViewModel(Dimension tab, TimeRange range, ByteUnits units, ZoneId zone, LongSupplier clock) {
        this.tab = tab;
        this.range = range;
        this.units = units;
        this.zone = zone;
        this.clock = clock;
        this.now = clock.getAsLong();
    }

    /** The query the current state needs. */
    ViewQuery wanted() {
        return new ViewQuery(tab, filters, range, offset, now, zone);
    }

    /**
     * Returns the query to send to the query thread, or null when the page on screen
     * already answers the state (from the cache, or the request is in flight).
     */
    ViewQuery nextRequest() {
        ViewQuery q = wanted();
        if (q.equals(requested) && loading) {
            return null;
        }
        Page cached = cache.get(q);
        if (cached != null) {
            show(cached);
            loading = false;
            requested = q;
            return null;
        }
        if (shown != null && !sameShape(shown.query(), q)) {
            // Another tab or filter: the old rows would be misleading under the new heading.
            shown = null;
            cursor = 0;
            top = 0;
        }
        requested = q;
        loading = true;
        return q;
    }

    /** A page from the query thread; ignored unless it answers the latest request. */
    void accept(Page p) {
        cache.put(p.query(), p);
        if (p.query().equals(requested)) {
            loading = false;
            error = null;
            show(p);
        }
    }

    void failed(ViewQuery q, String why) {
        if (q.equals(requested)) {
            loading = false;
            error = why;
        }
    }

    // ----- keys -----

    /** Applies one key; returns false when the view should end. */
    boolean apply(Keys.Op op) {
        if (help && op != Keys.Op.QUIT && op != Keys.Op.REDRAW) {
            help = false;
            return true;
        }
        message = null;
        switch (op) {
            case QUIT -> {
                return false;
            }
            case HELP -> help = true;
            case UP -> moveTo(cursor - 1);
            case DOWN -> moveTo(cursor + 1);
            case PAGE_UP -> moveTo(cursor - Math.max(1, visibleRows - 1));
            case PAGE_DOWN -> moveTo(cursor + Math.max(1, visibleRows - 1));
            case HOME -> moveTo(0);
            case END -> moveTo(size() - 1);
            case TAB_NEXT -> switchTab(tab.next());
            case TAB_PREV -> switchTab(tab.previous());
            case FILTER -> filter(false);
            case EXCLUDE -> filter(true);
            case UNFILTER -> unfilter();
            case RANGE_NEXT -> setRange(range.next());
            case RANGE_PREV -> setRange(range.previous());
            case OLDER -> {
                if (range == TimeRange.ALL) {
                    message = "history steps need a time range: press t first";
                } else {
                    offset++;
                }
            }
            case NEWER -> {
                if (offset > 0) {
                    offset--;
                } else {
                    message = "already showing the present; h goes back";
                }
            }
            case UNITS_NEXT -> units = units.next();
            case UNITS_PREV -> units = units.previous();
            case REFRESH -> refresh();
            case REDRAW, OTHER -> {
                // drawing is the caller's
            }
        }
        return true;
    }

    /** New data may have been written: re-anchor "now" and ask again, keeping the cursor's row. */
    void refresh() {
        now = clock.getAsLong();
        cache.clear();
        error = null;
    }

    private void switchTab(Dimension d) {
        remember();
        tab = d;
        cursor = 0;
        top = 0;
    }

    private void filter(boolean exclude) {
        Entry e = selected();
        if (e == null || shown == null) {
            message = "nothing to " + (exclude ? "exclude" : "filter on") + " here";
            return;
        }
        remember();
        filters.add(new Filter(tab, e.key(), shown.bucket(), exclude, e.label(), tab));
        if (!exclude) {
            // Drill down: one row is left here, so move on to the next tab that still
            // splits it. The time tab splits a time filter further into finer buckets.
            Dimension d = tab.next();
            while (d != tab && d != Dimension.TIME && hasEquality(d)) {
                d = d.next();
            }
            tab = d;
            cursor = 0;
            top = 0;
        }
    }

    private void unfilter() {
        if (filters.isEmpty()) {
            message = "no filter to remove";
            return;
        }
        Filter f = filters.removeLast();
        remember();
        tab = f.from();
        cursorKey.put(tab, f.key());
        cursorSet.put(tab, true);
        cursor = 0;
        top = 0;
    }

    private boolean hasEquality(Dimension d) {
        for (Filter f : filters) {
            if (f.dim() == d && !f.exclude()) {
                return true;
            }
        }
        return false;
    }

    private void setRange(TimeRange r) {
        range = r;
        offset = 0;
        now = clock.getAsLong();
    }

    // ----- cursor -----

    void setVisibleRows(int n) {
        visibleRows = Math.max(1, n);
        clampTop();
    }

    private void moveTo(int i) {
        if (size() == 0) {
            return;
        }
        cursor = Math.max(0, Math.min(size() - 1, i));
        clampTop();
        remember();
    }

    private void clampTop() {
        if (cursor < top) {
            top = cursor;
        }
        if (cursor >= top + visibleRows) {
            top = cursor - visibleRows + 1;
        }
        top = Math.max(0, Math.min(top, Math.max(0, size() - visibleRows)));
    }

    private void remember() {
        Entry e = selected();
        if (e != null) {
            cursorKey.put(tab, e.key());
            cursorSet.put(tab, true);
        }
    }

    private void show(Page p) {
        shown = p;
        int at = -1;
        if (Boolean.TRUE.equals(cursorSet.get(tab))) {
            Object want = cursorKey.get(tab);
            for (int i = 0; i < p.entries().size(); i++) {
                if (Objects.equals(p.entries().get(i).key(), want)) {
                    at = i;
                    break;
                }
            }
        }
        cursor = at >= 0 ? at : Math.max(0, Math.min(cursor, p.entries().size() - 1));
        clampTop();
    }

    private static boolean sameShape(ViewQuery a, ViewQuery b) {
        return a.dim() == b.dim() && a.filters().equals(b.filters()) && a.range() == b.range()
                && a.offset() == b.offset();
    }

    // ----- what the screen reads -----

    Dimension tab() {
        return tab;
    }

    List<Filter> filters() {
        return List.copyOf(filters);
    }

    TimeRange range() {
        return range;
    }

    int offset() {
        return offset;
    }

    ByteUnits units() {
        return units;
    }

    ZoneId zone() {
        return zone;
    }

    long now() {
        return now;
    }

    /** The rows on screen, possibly of an older "now" while a refresh runs; null before the first answer. */
    Page shown() {
        return shown;
    }

    boolean loading() {
        return loading;
    }

    String error() {
        return error;
    }

    String message() {
        return message;
    }

    boolean help() {
        return help;
    }

    int cursor() {
        return cursor;
    }

    int top() {
        return top;
    }

    int size() {
        return shown == null ? 0 : shown.entries().size();
    }

    Entry selected() {
        return shown == null || cursor >= shown.entries().size() ? null : shown.entries().get(cursor);
    }
}

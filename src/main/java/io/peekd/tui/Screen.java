package io.peekd.tui;

import java.time.Instant;
import java.time.LocalDate;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

import org.jline.utils.AttributedString;
import org.jline.utils.AttributedStringBuilder;
import org.jline.utils.AttributedStyle;

/**
 * Draws the model into exactly {@code rows} lines of at most {@code cols} columns:
 *
 * <pre>
 *  tab bar
 *  column headings (with the row count and the loading hint)
 *  rows ...
 *  the selected entry in full, or a message / error
 *  the filters
 *  status: range, position, totals, units
 * </pre>
 *
 * Pure: no terminal access, so that what is drawn can be checked without one.
 */
final class Screen {

    static final int MIN_COLS = 20;
    static final int MIN_ROWS = 6;
    /** Lines that are not rows of the table. */
    static final int CHROME = 5;

    private static final DateTimeFormatter DAY_TIME = DateTimeFormatter.ofPattern("MM-dd HH:mm");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm");

    private static final String[] HELP = {
            "peekd view: traffic history by executable, user, port, address, domain, time",
            "",
            "  left/right, tab    switch tab",
            "  up/down, j/k       move",
            "  PgUp/PgDn          page up/down",
            "  Home/End, g/G      first/last row",
            "  space, enter, f    filter on the entry and drill down to the next tab",
            "  e                  exclude the entry",
            "  backspace, F, E    remove the last filter",
            "  t / T              next/previous time range (all, 1 minute ... 1 year)",
            "  h / H              step back/forward through history by one range",
            "  u / U              cycle byte units",
            "  r                  refresh now (the present also refreshes by itself)",
            "  ctrl-l             redraw the screen",
            "  q, ctrl-c          quit",
            "",
            "Times are local. SENT and RECEIVED are the process's bytes, TOTAL both.",
            "Press any key to go back."};

    private final Styles st;
    private final Text.Glyphs g;

    Screen(Styles styles, Text.Glyphs glyphs) {
        this.st = styles;
        this.g = glyphs;
    }

    List<AttributedString> render(ViewModel m, int rows, int cols) {
        List<AttributedString> out = new ArrayList<>(rows);
        if (rows < MIN_ROWS || cols < MIN_COLS) {
            String msg = "too small: " + cols + "x" + rows + ", need " + MIN_COLS + "x" + MIN_ROWS;
            for (int i = 0; i < rows; i++) {
                out.add(i == 0 ? Text.fit(msg, cols, st.plain(), false, g) : AttributedString.EMPTY);
            }
            return out;
        }
        int body = rows - CHROME;
        m.setVisibleRows(body);
        out.add(tabBar(m, cols));
        Layout layout = layout(m, cols);
        out.add(header(m, layout, cols));
        if (m.help()) {
            for (int i = 0; i < body; i++) {
                out.add(i < HELP.length ? Text.fit(HELP[i], cols, st.plain(), false, g) : AttributedString.EMPTY);
            }
        } else {
            body(m, layout, body, cols, out);
        }
        out.add(detail(m, cols));
        out.add(filters(m, cols));
        // Not into the very last cell: on some terminals (vt100 and kin) that scrolls the
        // whole screen up a line.
        out.add(status(m, cols - 1));
        return out;
    }

    // ----- tab bar -----

    private AttributedString tabBar(ViewModel m, int cols) {
        Dimension[] all = Dimension.values();
        int active = m.tab().ordinal();
        // Widen a window of tabs around the active one until the bar is full.
        int lo = active, hi = active;
        int used = all[active].id().length() + 2;
        boolean grew = true;
        while (grew) {
            grew = false;
            if (hi + 1 < all.length && used + all[hi + 1].id().length() + 3 <= cols - 2) {
                used += all[++hi].id().length() + 3;
                grew = true;
            }
            if (lo > 0 && used + all[lo - 1].id().length() + 3 <= cols - 2) {
                used += all[--lo].id().length() + 3;
                grew = true;
            }
        }
        AttributedStringBuilder b = new AttributedStringBuilder();
        b.style(st.tab()).append(lo > 0 ? g.left() : " ");
        for (int i = lo; i <= hi; i++) {
            if (i > lo) {
                b.style(st.tab()).append(g.separator());
            }
            b.style(i == active ? st.activeTab() : st.tab()).append(" ").append(all[i].id()).append(" ");
        }
        b.style(st.tab()).append(hi < all.length - 1 ? g.right() : " ");
        return clip(b.toAttributedString(), cols);
    }

    // ----- table -----

    /** Column widths for this screen. */
    private record Layout(int key, int note, int num, boolean sent, boolean recv) {
    }

    private Layout layout(ViewModel m, int cols) {
        Page p = m.shown();
        ByteUnits u = m.units();
        int num = "RECEIVED".length();
        int note = 0;
        if (p != null) {
            num = Math.max(num, Math.max(u.format(p.total()).length(),
                    Math.max(u.format(p.sent()).length(), u.format(p.recv()).length())));
            int end = Math.min(p.entries().size(), m.top() + Math.max(1, 64));
            for (int i = m.top(); i < end; i++) {
                Entry e = p.entries().get(i);
                num = Math.max(num, u.format(e.total()).length());
                if (e.note() != null) {
                    note = Math.max(note, Math.min(16, Text.width(Text.sanitize(e.note()))));
                }
            }
        }
        if (m.tab().annotation() != Dimension.Annotation.NONE) {
            note = Math.max(note, m.tab().annotation().title.length());
        }
        boolean sent = true, recv = true;
        // gutter + key + per column a space and the number
        int key = cols - 1 - 3 * (num + 1) - (note > 0 ? note + 1 : 0);
        if (key < 12 && note > 0) {
            key += note + 1;
            note = 0;
        }
        if (key < 12) {
            key += num + 1;
            sent = false;
        }
        if (key < 12) {
            key += num + 1;
            recv = false;
        }
        return new Layout(Math.max(1, key), note, num, sent, recv);
    }

    private AttributedString header(ViewModel m, Layout l, int cols) {
        String title = m.tab() == Dimension.TIME ? "TIME (" + m.zone().getId() + ")" : m.tab().title();
        Page p = m.shown();
        if (p != null) {
            title += " (" + p.entries().size() + (p.truncated() ? "+" : "") + ")";
        }
        AttributedStringBuilder b = new AttributedStringBuilder();
        b.style(st.header()).append(" ");
        String hint = m.loading() ? " loading" + g.ellipsis() : "";
        AttributedStringBuilder left = new AttributedStringBuilder();
        left.style(st.header()).append(Text.sanitize(title));
        if (!hint.isEmpty()) {
            left.style(st.loading()).append(hint);
        }
        AttributedString ls = left.toAttributedString();
        if (ls.columnLength() > l.key()) {
            ls = ls.columnSubSequence(0, l.key());
        }
        b.append(ls);
        b.style(st.header());
        while (b.columnLength() < 1 + l.key()) {
            b.append(' ');
        }
        if (l.note() > 0) {
            b.append(' ').append(Text.fit(m.tab().annotation().title, l.note(), st.header(), true, g));
        }
        if (l.sent()) {
            b.append(' ').append(Text.right("SENT", l.num(), st.header()));
        }
        if (l.recv()) {
            b.append(' ').append(Text.right("RECEIVED", l.num(), st.header()));
        }
        b.append(' ').append(Text.right("TOTAL", l.num(), st.header()));
        return clip(b.toAttributedString(), cols);
    }

    private void body(ViewModel m, Layout l, int body, int cols, List<AttributedString> out) {
        Page p = m.shown();
        int first = out.size();
        if (p == null) {
            out.add(Text.fit(m.loading() ? "  loading" + g.ellipsis() : "", cols, st.loading(), false, g));
        } else if (p.entries().isEmpty()) {
            String why = "  no traffic in this time range"
                    + (m.filters().isEmpty() ? "" : " with these filters (backspace removes the last)");
            out.add(Text.fit(why, cols, st.missing(), false, g));
        } else {
            ByteUnits u = m.units();
            int end = Math.min(p.entries().size(), m.top() + body);
            for (int i = m.top(); i < end; i++) {
                Entry e = p.entries().get(i);
                boolean sel = i == m.cursor();
                AttributedStyle base = sel ? st.selected() : st.plain();
                AttributedStringBuilder b = new AttributedStringBuilder();
                b.style(base).append(sel ? g.arrow() : " ");
                b.append(Text.fit(Text.sanitize(e.label()), l.key(), e.missing() && !sel ? st.missing() : base,
                        true, g));
                if (l.note() > 0) {
                    String n = e.note() == null ? "" : Text.sanitize(e.note());
                    b.style(base).append(' ').append(Text.fit(n, l.note(), sel ? base : st.note(), true, g));
                }
                if (l.sent()) {
                    b.style(base).append(' ').append(Text.right(u.format(e.sent()), l.num(), base));
                }
                if (l.recv()) {
                    b.style(base).append(' ').append(Text.right(u.format(e.recv()), l.num(), base));
                }
                b.style(base).append(' ').append(Text.right(u.format(e.total()), l.num(), base));
                out.add(clip(b.toAttributedString(), cols));
            }
        }
        while (out.size() < first + body) {
            out.add(AttributedString.EMPTY);
        }
    }

    // ----- bottom lines -----

    private AttributedString detail(ViewModel m, int cols) {
        if (m.error() != null) {
            return Text.fit("error: " + Text.sanitize(m.error()), cols, st.error(), false, g);
        }
        if (m.message() != null) {
            return Text.fit(m.message(), cols, st.loading(), false, g);
        }
        Entry e = m.selected();
        if (e == null || m.help()) {
            return AttributedString.EMPTY;
        }
        String text = Text.sanitize(e.label()) + (e.note() == null ? "" : "  [" + Text.sanitize(e.note()) + "]");
        return Text.fit(g.arrow() + " " + text, cols, e.missing() ? st.missing() : st.plain(), false, g);
    }

    private AttributedString filters(ViewModel m, int cols) {
        List<Filter> fs = m.filters();
        AttributedStringBuilder b = new AttributedStringBuilder();
        b.style(st.plain()).append("filter: ");
        if (fs.isEmpty()) {
            b.style(st.missing()).append("none  (space/enter/f filter, e exclude, ? help)");
        } else {
            for (int i = 0; i < fs.size(); i++) {
                if (i > 0) {
                    b.style(st.plain()).append(" " + g.arrow() + " ");
                }
                b.style(st.filter()).append(Text.sanitize(fs.get(i).describe(g.unicode())));
            }
        }
        // The hint is cut at its end; a long drill-down keeps its newest filters in view.
        return fs.isEmpty() ? clip(b.toAttributedString(), cols) : keepTail(b.toAttributedString(), cols);
    }

    private AttributedString status(ViewModel m, int cols) {
        Page p = m.shown();
        ByteUnits u = m.units();
        String sep = " " + g.separator() + " ";
        StringBuilder s = new StringBuilder(" ").append(rangeText(m));
        int n = m.size();
        s.append(sep).append(n == 0 ? "0/0" : (m.cursor() + 1) + "/" + n);
        if (p != null) {
            s.append(sep).append("sent ").append(u.format(p.sent()))
                    .append("  recv ").append(u.format(p.recv()))
                    .append("  total ").append(u.format(p.total()));
            if (p.liveRows() > 0) {
                s.append(sep).append(liveText(p));
            }
            if (p.liveNote() != null) {
                s.append(sep).append(Text.sanitize(p.liveNote()));
            }
            if (p.historyNote() != null) {
                s.append(sep).append(p.historyNote());
            }
        }
        // The units are visible in the numbers too: the first thing to go when space is short.
        String units = sep + u.id();
        if (Text.width(s.toString()) + units.length() <= cols) {
            s.append(units);
        }
        return Text.fit(s.toString(), cols, st.status(), true, g);
    }

    /** "+3 live rows": rows from the daemon that are not in the database yet, counted in the page. */
    static String liveText(Page p) {
        return "+" + p.liveRows() + " live row" + (p.liveRows() == 1 ? "" : "s");
    }

    /** "last 1 hour", "all time", or for a step back "1 hour, 2 back: 08:00-09:00". */
    static String rangeText(ViewModel m) {
        TimeRange r = m.range();
        if (r == TimeRange.ALL) {
            return "all time";
        }
        if (m.offset() == 0) {
            return "last " + r.label();
        }
        long len = r.length().toSeconds();
        ZonedDateTime from = Instant.ofEpochSecond(m.now() - (m.offset() + 1L) * len).atZone(m.zone());
        ZonedDateTime to = Instant.ofEpochSecond(m.now() - (long) m.offset() * len).atZone(m.zone());
        LocalDate today = Instant.ofEpochSecond(m.now()).atZone(m.zone()).toLocalDate();
        String a = from.toLocalDate().equals(today) ? TIME.format(from) : DAY_TIME.format(from);
        String b = to.toLocalDate().equals(from.toLocalDate()) ? TIME.format(to) : DAY_TIME.format(to);
        return r.label() + ", " + m.offset() + " back: " + a + "-" + b;
    }

    private static AttributedString clip(AttributedString a, int cols) {
        return a.columnLength() > cols ? a.columnSubSequence(0, cols) : a;
    }

    /** A long drill-down keeps its newest filters in view: the cut is on the left. */
    private AttributedString keepTail(AttributedString a, int cols) {
        int len = a.columnLength();
        if (len <= cols) {
            return a;
        }
        AttributedStringBuilder b = new AttributedStringBuilder();
        b.style(st.plain()).append(g.ellipsis());
        b.append(a.columnSubSequence(len - (cols - g.ellipsis().length()), len));
        return clip(b.toAttributedString(), cols);
    }
}

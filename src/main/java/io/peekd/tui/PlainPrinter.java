package io.peekd.tui;

import java.io.PrintWriter;
import java.sql.SQLException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;

import io.peekd.store.Reader;

/**
 * The view's table as plain text, for a terminal that cannot run the full screen
 * (TERM=dumb, output into a pipe or file) or for {@code peekd view --print}: one tab,
 * every row, the totals. Control characters are escaped here too.
 */
public final class PlainPrinter {

    private PlainPrinter() {
    }

    public static void print(PrintWriter out, Reader reader, Annotator annotator, Dimension tab, TimeRange range,
                             ByteUnits units, ZoneId zone, Instant now) throws SQLException {
        print(out, reader, annotator, null, tab, range, units, zone, now);
    }

    /** @param daemon adds the rows not stored yet; null for the database alone */
    public static void print(PrintWriter out, Reader reader, Annotator annotator, DaemonFeed daemon, Dimension tab,
                             TimeRange range, ByteUnits units, ZoneId zone, Instant now) throws SQLException {
        ViewQuery q = new ViewQuery(tab, List.of(), range, 0, now.getEpochSecond(), zone);
        Page p = reader.readChecked(c -> q.run(c, ps -> { }, annotator, daemon == null ? null : daemon::after));
        String title = tab == Dimension.TIME ? "TIME (" + zone.getId() + ")" : tab.title();
        boolean note = tab.annotation() != Dimension.Annotation.NONE;
        int keyW = Text.width(title);
        int numW = "RECEIVED".length();
        int noteW = note ? tab.annotation().title.length() : 0;
        for (Entry e : p.entries()) {
            keyW = Math.max(keyW, Text.width(Text.sanitize(e.label())));
            numW = Math.max(numW, units.format(e.total()).length());
            if (e.note() != null) {
                noteW = Math.max(noteW, Text.width(Text.sanitize(e.note())));
            }
        }
        numW = Math.max(numW, units.format(p.total()).length());
        String total = "total (" + range.label() + ", " + p.entries().size() + (p.truncated() ? "+" : "") + " rows)";
        keyW = Math.min(Math.max(keyW, total.length()), 120);
        out.println(row(title, note ? tab.annotation().title : null, "SENT", "RECEIVED", "TOTAL", keyW, noteW, numW));
        for (Entry e : p.entries()) {
            out.println(row(Text.sanitize(e.label()), note ? Text.sanitize(e.note() == null ? "" : e.note()) : null,
                    units.format(e.sent()), units.format(e.recv()), units.format(e.total()), keyW, noteW, numW));
        }
        out.println(row(total, note ? "" : null, units.format(p.sent()), units.format(p.recv()),
                units.format(p.total()), keyW, noteW, numW));
        if (p.liveRows() > 0) {
            out.println("(" + Screen.liveText(p) + " from the daemon, not in the database yet)");
        }
        if (p.liveNote() != null) {
            out.println("(" + Text.sanitize(p.liveNote()) + ")");
        }
        if (p.historyNote() != null) {
            out.println("(" + p.historyNote() + ")");
        }
        out.flush();
    }

    private static String row(String key, String note, String sent, String recv, String total, int keyW, int noteW,
                              int numW) {
        StringBuilder sb = new StringBuilder();
        sb.append(Text.fit(key, keyW, org.jline.utils.AttributedStyle.DEFAULT, true, Text.Glyphs.ASCII).toString());
        if (note != null) {
            sb.append("  ").append(Text.fit(note, noteW, org.jline.utils.AttributedStyle.DEFAULT, true,
                    Text.Glyphs.ASCII).toString());
        }
        String fmt = "  %" + numW + "s";
        sb.append(String.format(fmt, sent)).append(String.format(fmt, recv)).append(String.format(fmt, total));
        return sb.toString();
    }
}

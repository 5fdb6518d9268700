package io.peekd.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/** A plain aligned text table; long cells are cut with an ellipsis so rows stay on one line. */
final class Table {
    private static final int MAX_CELL = 60;
    private final String[] header;
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
        this.header = header;
    }

    void row(String... cells) {
        String[] r = new String[header.length];
        for (int i = 0; i < r.length; i++) {
            String c = i < cells.length && cells[i] != null ? cells[i] : "-";
            c = c.replaceAll("\\p{Cntrl}", "?"); // a process name may carry escape codes; never echo them raw
            r[i] = c.length() > MAX_CELL ? c.substring(0, MAX_CELL - 1) + "…" : c;
        }
        rows.add(r);
    }

    void print(PrintWriter out) {
        int[] w = new int[header.length];
        for (int i = 0; i < w.length; i++) w[i] = header[i].length();
        for (String[] r : rows) for (int i = 0; i < w.length; i++) w[i] = Math.max(w[i], r[i].length());
        line(out, header, w);
        for (String[] r : rows) line(out, r, w);
    }

    private static void line(PrintWriter out, String[] cells, int[] w) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) sb.append("  ");
            sb.append(cells[i]);
            if (i < cells.length - 1) sb.append(" ".repeat(w[i] - cells[i].length()));
        }
        out.println(sb);
    }
}

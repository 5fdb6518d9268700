package io.peekd.web;

import java.io.IOException;
import java.io.Writer;

/** RFC 4180 cells, made safe to open in a spreadsheet. */
final class Csv {
    private Csv() {
    }

    static void row(Writer w, Object... cells) throws IOException {
        for (int i = 0; i < cells.length; i++) {
            if (i > 0) w.write(',');
            Object c = cells[i];
            if (c == null) continue;
            w.write(c instanceof Number ? c.toString() : text(c.toString()));
        }
        w.write("\r\n");
    }

    /**
     * Quotes when needed. A text cell a spreadsheet would run as a formula (starting with
     * = + - @ or a control character) gets a leading apostrophe: a command line such as
     * {@code =cmd|...} in the capture must not execute on the analyst's machine.
     */
    static String text(String s) {
        if (!s.isEmpty() && "=+-@\t\r".indexOf(s.charAt(0)) >= 0) s = "'" + s;
        boolean quote = s.indexOf(',') >= 0 || s.indexOf('"') >= 0 || s.indexOf('\n') >= 0 || s.indexOf('\r') >= 0;
        return quote ? '"' + s.replace("\"", "\"\"") + '"' : s;
    }
}

package io.peekd.tui;

import java.util.ArrayList;
import java.util.List;

import org.jline.terminal.Terminal;
import org.jline.utils.AttributedString;
import org.jline.utils.InfoCmp.Capability;

/**
 * Puts frames on the terminal, rewriting only the lines that changed. JLine's own
 * {@code Display} drops every attribute on a terminal that declares no colours (vt100
 * and kin), which would leave a monochrome screen without its reverse-video cursor row
 * and status bar; this keeps bold, underline and reverse everywhere. Each line is
 * written whole, padded with blanks, from its first column: no reliance on the
 * terminal's insert/delete or wrap behaviour.
 */
final class Painter {

    private final Terminal terminal;
    private List<String> shown = List.of();
    private int rows = -1;
    private int cols = -1;

    Painter(Terminal terminal) {
        this.terminal = terminal;
    }

    /** The next frame is drawn on a cleared screen (resize, Ctrl-L, back from Ctrl-Z). */
    void invalidate() {
        shown = List.of();
        rows = -1;
    }

    void paint(List<AttributedString> lines, int rows, int cols) {
        if (rows != this.rows || cols != this.cols) {
            terminal.puts(Capability.clear_screen);
            shown = List.of();
            this.rows = rows;
            this.cols = cols;
        }
        List<String> now = new ArrayList<>(rows);
        for (int i = 0; i < rows; i++) {
            AttributedString line = i < lines.size() ? lines.get(i) : AttributedString.EMPTY;
            // The last cell of the last line stays untouched: writing it scrolls some terminals.
            int width = i == rows - 1 ? cols - 1 : cols;
            int pad = Math.max(0, width - line.columnLength());
            now.add(line.toAnsi(terminal) + " ".repeat(pad));
        }
        for (int i = 0; i < rows; i++) {
            if (i < shown.size() && shown.get(i).equals(now.get(i))) {
                continue;
            }
            terminal.puts(Capability.cursor_address, i, 0);
            terminal.writer().write(now.get(i));
        }
        terminal.puts(Capability.cursor_address, rows - 1, 0);
        terminal.flush();
        shown = now;
    }
}

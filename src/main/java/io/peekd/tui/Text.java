package io.peekd.tui;

import org.jline.utils.AttributedString;
import org.jline.utils.AttributedStringBuilder;
import org.jline.utils.AttributedStyle;

/**
 * Making stored text safe and sized for the screen. Process names and command lines are
 * chosen by whoever runs the process: an escape sequence in a name must show as text, not
 * move the cursor, retitle the window or hide other rows.
 */
final class Text {

    private Text() {
    }

    /**
     * Replaces everything that is not printable text: C0/C1 controls and DEL become
     * {@code \xNN}, format characters (bidi overrides, zero-width joiners) and line
     * separators {@code \}{@code u202E} style escapes, and lone surrogates and unassigned
     * code points U+FFFD. What is left only ever advances the cursor.
     */
    static String sanitize(String s) {
        if (s == null) {
            return "";
        }
        StringBuilder out = null;
        for (int i = 0; i < s.length(); ) {
            int cp = s.codePointAt(i);
            int n = Character.charCount(cp);
            String rep = replacement(cp);
            if (rep != null && out == null) {
                out = new StringBuilder(s.length() + 16).append(s, 0, i);
            }
            if (out != null) {
                if (rep != null) {
                    out.append(rep);
                } else {
                    out.appendCodePoint(cp);
                }
            }
            i += n;
        }
        return out == null ? s : out.toString();
    }

    private static String replacement(int cp) {
        switch (Character.getType(cp)) {
            case Character.CONTROL:
                return String.format("\\x%02x", cp);
            case Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR:
                return String.format("\\u%04x", cp);
            case Character.SURROGATE, Character.UNASSIGNED, Character.PRIVATE_USE:
                return "\uFFFD";
            default:
                return null;
        }
    }

    /** Display columns of (sanitized) text, counting wide characters as two. */
    static int width(String s) {
        return new AttributedString(s).columnLength();
    }

    /**
     * Cuts text to {@code width} columns, marking a cut with an ellipsis, and pads it with
     * spaces to exactly {@code width} when {@code pad}.
     */
    static AttributedString fit(String s, int width, AttributedStyle style, boolean pad, Glyphs g) {
        if (width <= 0) {
            return AttributedString.EMPTY;
        }
        AttributedString a = new AttributedString(s, style);
        int len = a.columnLength();
        AttributedStringBuilder b = new AttributedStringBuilder();
        if (len > width) {
            int keep = Math.max(0, width - g.ellipsis().length());
            b.append(a.columnSubSequence(0, keep));
            // A wide character that did not fit leaves a hole: fill it so columns line up.
            while (b.columnLength() < keep) {
                b.append(' ');
            }
            b.style(style).append(g.ellipsis().substring(0, Math.min(g.ellipsis().length(), width)));
        } else {
            b.append(a);
        }
        if (pad) {
            b.style(style);
            while (b.columnLength() < width) {
                b.append(' ');
            }
        }
        return b.toAttributedString();
    }

    /** Right-aligns text in {@code width} columns (numbers), cutting from the left when too long. */
    static AttributedString right(String s, int width, AttributedStyle style) {
        int len = width(s);
        if (len >= width) {
            return new AttributedString(s.substring(Math.max(0, s.length() - width)), style);
        }
        return new AttributedString(" ".repeat(width - len) + s, style);
    }

    /**
     * Line-drawing characters when the terminal takes UTF-8, plain ASCII otherwise (a
     * LANG=C session over SSH would show them as question marks).
     */
    record Glyphs(String ellipsis, String separator, String arrow, String left, String right, boolean unicode) {
        static final Glyphs UNICODE = new Glyphs("\u2026", "\u2502", "\u203a", "\u2039", "\u203a", true);
        static final Glyphs ASCII = new Glyphs("~", "|", ">", "<", ">", false);
    }
}

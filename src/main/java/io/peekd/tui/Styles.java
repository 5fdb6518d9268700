package io.peekd.tui;

import org.jline.utils.AttributedStyle;

/**
 * The view's looks in three palettes. Monochrome (NO_COLOR, or a terminal without
 * colours) uses only bold, underline and reverse video, so everything that colour
 * marks elsewhere stays visible.
 */
record Styles(Palette palette, AttributedStyle plain, AttributedStyle tab, AttributedStyle activeTab,
              AttributedStyle header, AttributedStyle selected, AttributedStyle missing, AttributedStyle status,
              AttributedStyle error, AttributedStyle loading, AttributedStyle note, AttributedStyle filter) {

    enum Palette {
        MONO, COLOR8, COLOR256;

        /**
         * NO_COLOR (https://no-color.org) wins when set to anything non-empty; otherwise the
         * terminal's own colour count decides.
         */
        static Palette choose(String noColor, int maxColors) {
            if (noColor != null && !noColor.isEmpty()) {
                return MONO;
            }
            return maxColors >= 256 ? COLOR256 : maxColors >= 8 ? COLOR8 : MONO;
        }
    }

    static Styles of(Palette p) {
        AttributedStyle d = AttributedStyle.DEFAULT;
        return switch (p) {
            case MONO -> new Styles(p, d, d, d.inverse().bold(), d.bold().underline(), d.inverse(), d,
                    d.inverse(), d.bold(), d.bold(), d, d.bold());
            case COLOR8 -> new Styles(p, d, d, d.bold().foreground(AttributedStyle.BLACK).background(AttributedStyle.CYAN),
                    d.bold().underline(), d.foreground(AttributedStyle.WHITE).background(AttributedStyle.BLUE).bold(),
                    d.foreground(AttributedStyle.BLACK + AttributedStyle.BRIGHT),
                    d.foreground(AttributedStyle.BLACK).background(AttributedStyle.WHITE),
                    d.bold().foreground(AttributedStyle.RED), d.bold().foreground(AttributedStyle.YELLOW),
                    d.foreground(AttributedStyle.MAGENTA), d.foreground(AttributedStyle.CYAN));
            case COLOR256 -> new Styles(p, d, d.foreground(250), d.bold().foreground(16).background(81),
                    d.bold().underline().foreground(254), d.foreground(231).background(24).bold(),
                    d.foreground(244), d.foreground(252).background(237),
                    d.bold().foreground(203), d.bold().foreground(221), d.foreground(176), d.foreground(117));
        };
    }
}

package io.peekd.tui;

import org.jline.keymap.KeyMap;
import org.jline.terminal.Terminal;
import org.jline.utils.Curses;
import org.jline.utils.InfoCmp.Capability;

/** The view's keys, picosnitch's set plus the usual movement keys. */
final class Keys {

    enum Op {
        FILTER, EXCLUDE, UNFILTER,
        RANGE_NEXT, RANGE_PREV, OLDER, NEWER,
        UNITS_NEXT, UNITS_PREV, REFRESH, QUIT, HELP, REDRAW,
        UP, DOWN, PAGE_UP, PAGE_DOWN, HOME, END, TAB_PREV, TAB_NEXT,
        /** Any other key: ignored, but it closes the help screen. */
        OTHER
    }

    private Keys() {
    }

    static KeyMap<Op> map(Terminal t) {
        KeyMap<Op> m = new KeyMap<>();
        m.bind(Op.FILTER, " ", "\r", "\n", "f");
        m.bind(Op.EXCLUDE, "e");
        m.bind(Op.UNFILTER, KeyMap.del(), KeyMap.ctrl('H'), "F", "E");
        m.bind(Op.RANGE_NEXT, "t");
        m.bind(Op.RANGE_PREV, "T");
        m.bind(Op.OLDER, "h");
        m.bind(Op.NEWER, "H");
        m.bind(Op.UNITS_NEXT, "u");
        m.bind(Op.UNITS_PREV, "U");
        m.bind(Op.REFRESH, "r");
        m.bind(Op.QUIT, "q", KeyMap.ctrl('C'));
        m.bind(Op.HELP, "?");
        m.bind(Op.REDRAW, KeyMap.ctrl('L'));
        // Both the terminfo sequence (keypad mode) and the common ANSI forms: terminals differ.
        bind(m, t, Op.UP, Capability.key_up, "\033[A", "\033OA", "k");
        bind(m, t, Op.DOWN, Capability.key_down, "\033[B", "\033OB", "j");
        bind(m, t, Op.TAB_PREV, Capability.key_left, "\033[D", "\033OD", "\033[Z");
        bind(m, t, Op.TAB_NEXT, Capability.key_right, "\033[C", "\033OC", "\t");
        bind(m, t, Op.PAGE_UP, Capability.key_ppage, "\033[5~");
        bind(m, t, Op.PAGE_DOWN, Capability.key_npage, "\033[6~");
        bind(m, t, Op.HOME, Capability.key_home, "\033[H", "\033OH", "\033[1~", "\033[7~", "g");
        bind(m, t, Op.END, Capability.key_end, "\033[F", "\033OF", "\033[4~", "\033[8~", "G");
        m.setNomatch(Op.OTHER);
        m.setUnicode(Op.OTHER);
        return m;
    }

    private static void bind(KeyMap<Op> m, Terminal t, Op op, Capability cap, String... fallbacks) {
        String s = t.getStringCapability(cap);
        if (s != null && !s.isEmpty()) {
            m.bind(op, Curses.tputs(s));
        }
        m.bind(op, fallbacks);
    }
}

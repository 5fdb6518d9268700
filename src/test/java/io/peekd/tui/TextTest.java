package io.peekd.tui;

import static org.assertj.core.api.Assertions.assertThat;

import org.jline.utils.AttributedStyle;
import org.junit.jupiter.api.Test;

class TextTest {

    private static String fit(String s, int width, boolean pad, Text.Glyphs g) {
        return Text.fit(s, width, AttributedStyle.DEFAULT, pad, g).toString();
    }

    @Test
    void controlCharactersBecomeVisibleEscapes() {
        assertThat(Text.sanitize("a\u001b[2Jb")).isEqualTo("a\\x1b[2Jb");
        assertThat(Text.sanitize("x\u0007\n\r\t\u007f")).isEqualTo("x\\x07\\x0a\\x0d\\x09\\x7f");
        // C1 controls: 0x9b is a one-byte CSI on some terminals.
        assertThat(Text.sanitize("\u009b31m")).isEqualTo("\\x9b31m");
        // Bidi overrides and zero-width characters could reorder or hide text.
        assertThat(Text.sanitize("abc\u202edcb\u200b")).isEqualTo("abc\\u202edcb\\u200b");
        assertThat(Text.sanitize("line\u2028sep")).isEqualTo("line\\u2028sep");
        // A lone surrogate (bytes that were not UTF-8) and private-use characters.
        assertThat(Text.sanitize("a\ud800b\ue000")).isEqualTo("a\ufffdb\ufffd");
        assertThat(Text.sanitize(null)).isEmpty();
    }

    @Test
    void printableTextIsLeftAlone() {
        String s = "/usr/bin/caf\u00e9 \u65e5\u672c -- --x=1 \ud83d\ude00";
        assertThat(Text.sanitize(s)).isSameAs(s);
    }

    @Test
    void fittingCountsColumnsNotChars() {
        assertThat(fit("abcdef", 4, false, Text.Glyphs.UNICODE)).isEqualTo("abc\u2026");
        assertThat(fit("abcdef", 4, false, Text.Glyphs.ASCII)).isEqualTo("abc~");
        assertThat(fit("ab", 4, true, Text.Glyphs.UNICODE)).isEqualTo("ab  ");
        // Two columns each: four fit in eight columns, three and an ellipsis in seven.
        assertThat(Text.width("\u65e5\u672c\u65e5\u672c")).isEqualTo(8);
        assertThat(fit("\u65e5\u672c\u65e5\u672c", 8, true, Text.Glyphs.UNICODE)).isEqualTo("\u65e5\u672c\u65e5\u672c");
        String cut = fit("\u65e5\u672c\u65e5\u672c", 6, true, Text.Glyphs.UNICODE);
        assertThat(Text.width(cut)).isEqualTo(6);
        assertThat(cut).endsWith("\u2026");
        assertThat(Text.right("12 B", 6, AttributedStyle.DEFAULT).toString()).isEqualTo("  12 B");
    }
}

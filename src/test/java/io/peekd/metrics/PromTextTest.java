package io.peekd.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PromTextTest {
    @Test
    void familiesHaveHelpTypeAndSamples() {
        String t = new PromText()
                .single("peekd_up", PromText.Type.GAUGE, "Whether it runs.", 1)
                .family("peekd_bytes_sent_total", PromText.Type.COUNTER, "Bytes sent.")
                .sample(Map.of("exe", "/usr/bin/curl"), 1234)
                .sample(Map.of("exe", "other"), 0)
                .toString();
        assertThat(t).isEqualTo("""
                # HELP peekd_up Whether it runs.
                # TYPE peekd_up gauge
                peekd_up 1
                # HELP peekd_bytes_sent_total Bytes sent.
                # TYPE peekd_bytes_sent_total counter
                peekd_bytes_sent_total{exe="/usr/bin/curl"} 1234
                peekd_bytes_sent_total{exe="other"} 0
                """);
        PromTextChecks.assertWellFormed(t);
    }

    @Test
    void hostileLabelValuesAreEscaped() {
        String evil = "/tmp/a\"b\\c\nd} 99\n# TYPE x counter";
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("exe", evil);
        labels.put("kind", "x");
        String t = new PromText().family("peekd_x_total", PromText.Type.COUNTER, "help\nwith newline").sample(labels, 7).toString();
        assertThat(t.split("\n")).hasSize(3);
        assertThat(t).contains("exe=\"/tmp/a\\\"b\\\\c\\nd} 99\\n# TYPE x counter\",kind=\"x\"} 7");
        PromTextChecks.assertWellFormed(t);
    }

    @Test
    void numbersAreExact() {
        assertThat(PromText.number(9_007_199_254_740L)).isEqualTo("9007199254740");
        assertThat(PromText.number(0.25)).isEqualTo("0.25");
        assertThat(PromText.number(Double.NaN)).isEqualTo("NaN");
        assertThat(PromText.number(-1)).isEqualTo("-1");
    }

    @Test
    void badNamesAndDuplicateFamiliesAreRefused() {
        assertThatThrownBy(() -> new PromText().family("peekd-bytes", PromText.Type.GAUGE, "x"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PromText().family("a", PromText.Type.GAUGE, "x").sample(Map.of("bad-label", "v"), 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PromText().single("a", PromText.Type.GAUGE, "x", 1).single("a", PromText.Type.GAUGE, "x", 1))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PromText().sample(1)).isInstanceOf(IllegalStateException.class);
        assertThat(List.of()).isEmpty();
    }
}

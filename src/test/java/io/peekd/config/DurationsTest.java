package io.peekd.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({
            "30s, 30",
            "15m, 900",
            "1h, 3600",
            "24h, 86400",
            "7d, 604800",
            "2w, 1209600",
            "1y, 31536000",
            "' 90m ', 5400",
            "'36 h', 129600",
            "007d, 604800",
    })
    void parsesEachUnit(String text, long seconds) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofSeconds(seconds));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''             | empty duration",
            "'   '          | empty duration",
            "30             | has no unit; add one of s, m, h, d, w or y, as in 30s",
            "24 hours       | unknown unit \"hours\"",
            "1M             | unknown unit \"M\"",
            "1h30m          | unknown unit \"h30m\"",
            "1.5h           | not a whole number",
            "-5m            | is not a duration",
            "h              | is not a duration",
            "0s             | is zero",
            "101y           | too long; the longest duration is 100y",
            "99999999999999999999999s | too long",
    })
    void rejectsWithAClearMessage(String text, String message) {
        assertThatThrownBy(() -> Durations.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void rejectsNull() {
        assertThatThrownBy(() -> Durations.parse(null)).hasMessageContaining("empty duration");
    }

    @Test
    void acceptsTheLongestDuration() {
        assertThat(Durations.parse("100y")).isEqualTo(Durations.MAX);
        assertThat(Durations.parse(Durations.MAX.getSeconds() + "s")).isEqualTo(Durations.MAX);
        assertThatThrownBy(() -> Durations.parse(Durations.MAX.getSeconds() + 1 + "s")).hasMessageContaining("too long");
    }

    @ParameterizedTest
    @CsvSource({"45s, 45s", "120s, 2m", "90m, 90m", "24h, 1d", "14d, 2w", "365d, 1y", "366d, 366d", "3601s, 3601s"})
    void formatsInTheLargestExactUnit(String in, String out) {
        Duration d = Durations.parse(in);
        assertThat(Durations.format(d)).isEqualTo(out);
        assertThat(Durations.parse(Durations.format(d))).isEqualTo(d);
    }

    @Test
    void refusesToFormatWhatItCannotParse() {
        assertThatThrownBy(() -> Durations.format(Duration.ZERO)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Durations.format(Duration.ofMillis(1500))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Durations.format(Duration.ofSeconds(-5))).isInstanceOf(IllegalArgumentException.class);
    }
}

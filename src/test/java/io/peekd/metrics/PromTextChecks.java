package io.peekd.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Pattern;

/** Checks Prometheus text exposition line by line (used by unit and kernel tests). */
public final class PromTextChecks {
    private PromTextChecks() {
    }

    /** One sample line of the 0.0.4 text format: name, optional labels with escaped values, value. */
    private static final Pattern SAMPLE = Pattern.compile(
            "[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\""
                    + "(,[a-zA-Z_][a-zA-Z0-9_]*=\"(?:[^\"\\\\\\n]|\\\\[\\\\\"n])*\")*})? (-?[0-9.eE+-]+|NaN|[+-]Inf)");

    /** Checks every line of an exposition: HELP and TYPE before the samples of each family, samples well formed. */
    public static void assertWellFormed(String text) {
        assertThat(text).endsWith("\n");
        String family = null;
        for (String line : text.split("\n")) {
            if (line.startsWith("# HELP ")) {
                family = line.split(" ")[2];
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                assertThat(line.split(" ")[2]).isEqualTo(family);
                assertThat(line.split(" ")[3]).isIn("counter", "gauge");
                continue;
            }
            assertThat(line).as("sample line").matches(SAMPLE);
            assertThat(line).as("sample of its family").startsWith(family);
        }
    }

}

package io.peekd.alert;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * An alerts file that cannot be used. Every problem is listed, each with the file, line,
 * rule and key, e.g. {@code /etc/peekd/alerts.toml:14: rule "curl-outbound" (alerts[1]): rport:
 * expected a port 0..65535 or a range such as 8000-8100, got 70000}.
 */
public final class AlertsFileException extends Exception {

    /**
     * @param rule the rule's label ({@code rule "x" (alerts[2])}), or empty when not about one rule
     * @param key  the key, or empty
     * @param line 1-based line, or 0 when unknown
     */
    public record Problem(Path file, int line, String rule, String key, String detail) {
        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder().append(file);
            if (line > 0) sb.append(':').append(line);
            sb.append(": ");
            if (!rule.isEmpty()) sb.append(rule).append(": ");
            if (!key.isEmpty()) sb.append(key).append(": ");
            return sb.append(detail).toString();
        }
    }

    private final transient List<Problem> problems;

    AlertsFileException(List<Problem> problems) {
        super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n")));
        this.problems = List.copyOf(problems);
    }

    public List<Problem> problems() {
        return problems;
    }
}

package io.peekd.config;

import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A config file that cannot be used. The loader reports every problem it finds in
 * one go, so that a user fixes the file once rather than once per mistake;
 * {@link #file()}, {@link #key()}, {@link #line()} and {@link #kind()} describe the
 * first (by line), {@link #problems()} has them all, and {@link #getMessage()}
 * prints one line per problem, like
 * {@code /etc/peekd/config.toml:12: web.port: expected an integer 1..65535, got "abc"}.
 */
public final class ConfigException extends Exception {

    public enum Kind {
        /** The file is missing, unreadable, too large or not UTF-8. */
        UNREADABLE,
        /** Not valid TOML. */
        SYNTAX,
        UNKNOWN_SECTION,
        UNKNOWN_KEY,
        /** A value of the wrong TOML type, such as a string where a number belongs. */
        WRONG_TYPE,
        /** A number outside its allowed range. */
        OUT_OF_RANGE,
        /** A string that does not parse: network, sha256, duration, address, path, name... */
        BAD_VALUE
    }

    /**
     * One problem.
     *
     * @param key  dotted key path such as {@code web.port} or {@code log.ignore_ips[1]}; empty when the
     *             problem is not about one key (syntax, unreadable file)
     * @param line 1-based line in the file, or 0 when unknown
     */
    public record Problem(Kind kind, Path file, String key, int line, String detail) {
        @Override
        public String toString() {
            var sb = new StringBuilder().append(file);
            if (line > 0) {
                sb.append(':').append(line);
            }
            sb.append(": ");
            if (!key.isEmpty()) {
                sb.append(key).append(": ");
            }
            return sb.append(detail).toString();
        }
    }

    private final transient List<Problem> problems;

    ConfigException(List<Problem> problems) {
        super(problems.stream().map(Problem::toString).collect(Collectors.joining("\n")));
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("a config exception needs at least one problem");
        }
        this.problems = List.copyOf(problems);
    }

    ConfigException(Problem problem) {
        this(List.of(problem));
    }

    public List<Problem> problems() {
        return problems;
    }

    public Kind kind() {
        return problems.getFirst().kind();
    }

    public Path file() {
        return problems.getFirst().file();
    }

    /** Dotted key path of the first problem, or empty. */
    public String key() {
        return problems.getFirst().key();
    }

    /** Line of the first problem, or 0 when unknown. */
    public int line() {
        return problems.getFirst().line();
    }
}

package io.peekd.config;

import java.util.List;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseError;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlPosition;

/**
 * Where each key of the file is, and a second reading of its integers.
 *
 * <p>Jackson's TOML module builds the whole tree before it hands out tokens, so its
 * streaming parser has no locations (they are all "UNKNOWN"). tomlj records the
 * position of every key, so it serves as the index; Jackson stays the parser of
 * record. Jackson 2.20 also drops the first digit of 19-digit integers
 * (jackson-dataformats-text#663); tomlj's reading of integers corrects that. Every
 * answer here is best effort: if tomlj fails where Jackson succeeded, lines are 0
 * and Jackson's integers stand.
 */
final class KeyIndex {

    /** Nineteen digits or more, underscores between them allowed: what Jackson may misread. */
    private static final java.util.regex.Pattern LONG_INTEGER = java.util.regex.Pattern.compile("\\d(?:_?\\d){18}");

    private final String text;
    private final boolean integersDiffer;
    /**
     * Parsed on first use only: tomlj (an ANTLR parser) costs about 100 ms of a command's
     * cold start, and a valid file with ordinary integers never needs it.
     */
    private TomlParseResult toml;
    private boolean parsed;

    private KeyIndex(String text) {
        this.text = text;
        this.integersDiffer = LONG_INTEGER.matcher(text).find();
    }

    static KeyIndex of(String text) {
        return new KeyIndex(text);
    }

    private TomlParseResult toml() {
        if (!parsed) {
            parsed = true;
            try {
                toml = Toml.parse(text);
            } catch (RuntimeException | StackOverflowError e) {
                toml = null;
            }
        }
        return toml;
    }

    /** 1-based line where the key at {@code path} is defined, or 0. */
    int line(List<String> path) {
        TomlParseResult toml = path.isEmpty() ? null : toml();
        if (toml == null) {
            return 0;
        }
        try {
            TomlPosition p = toml.inputPositionOf(path);
            if (p != null) {
                return p.line();
            }
            // tomlj drops a key whose value it rejects (an integer beyond 64 bits, say) and reports an
            // error there instead: take the first error after the nearest ancestor it does know.
            int after = 0;
            for (int n = path.size() - 1; n > 0 && after == 0; n--) {
                TomlPosition q = toml.inputPositionOf(path.subList(0, n));
                after = q == null ? 0 : q.line();
            }
            for (TomlParseError e : toml.errors()) {
                if (e.position() != null && e.position().line() >= after) {
                    return e.position().line();
                }
            }
            return 0;
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** tomlj's value of the integer at {@code path} (element {@code element} of an array, or the key itself when -1), or null. */
    Long integer(List<String> path, int element) {
        TomlParseResult toml = integersDiffer ? toml() : null;
        if (toml == null) {
            return null;
        }
        try {
            Object v = toml.get(path);
            if (element >= 0) {
                v = v instanceof TomlArray a && element < a.size() ? a.get(element) : null;
            }
            return v instanceof Long l ? l : null;
        } catch (RuntimeException e) {
            return null;
        }
    }

    /** A syntax error as tomlj sees it. */
    record SyntaxError(int line, int column, String message) {
    }

    /** tomlj's first syntax error, or null. Its lines and wording are often better than Jackson's. */
    SyntaxError firstError() {
        TomlParseResult toml = toml();
        if (toml == null) {
            return null;
        }
        for (TomlParseError e : toml.errors()) {
            if (e.position() != null) {
                // tomlj appends " (line N, column M)"; the caller prints its own location.
                String m = e.getMessage().replaceFirst("\\s*\\(line \\d+, column \\d+\\)$", "");
                return new SyntaxError(e.position().line(), e.position().column(), m);
            }
        }
        return null;
    }
}

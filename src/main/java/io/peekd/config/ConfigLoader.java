package io.peekd.config;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.dataformat.toml.TomlFactory;
import io.peekd.config.ConfigException.Kind;
import io.peekd.config.ConfigException.Problem;
import io.peekd.json.Trees;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * Loads and checks {@code config.toml}.
 *
 * <pre>{@code
 * Config c = ConfigLoader.load(option == null ? ConfigLoader.DEFAULT_PATH : option);
 * }</pre>
 */
public final class ConfigLoader {

    public static final Path DEFAULT_PATH = Path.of("/etc/peekd/config.toml");

    /** A config is a few KiB; a larger file is surely not one, and must not exhaust the daemon's heap. */
    static final int MAX_BYTES = 1 << 20;

    /**
     * Built on first use, not when the class loads: every command's --config
     * default reads {@link #DEFAULT_PATH}. A factory and {@link Trees} instead of a
     * TomlMapper: the mapper's databind set-up was a fifth of `peekd report`'s cold start.
     */
    private static final class Toml {
        static final TomlFactory FACTORY = new TomlFactory();
    }

    private ConfigLoader() {
    }

    /**
     * Reads and checks {@code file}. A missing file is an error, except at
     * {@link #DEFAULT_PATH}, where it means "all defaults" so that peekd runs
     * without any config. Keys that are absent take their defaults.
     *
     * @throws ConfigException listing every problem found, each with file, key and line
     */
    public static Config load(Path file) throws ConfigException {
        return load(file, DEFAULT_PATH);
    }

    static Config load(Path file, Path defaultPath) throws ConfigException {
        String text;
        try {
            text = read(file);
        } catch (NoSuchFileException e) {
            if (file.equals(defaultPath)) {
                return Config.defaults();
            }
            throw unreadable(file, "no such file");
        } catch (AccessDeniedException e) {
            throw unreadable(file, "permission denied");
        } catch (CharacterCodingException e) {
            throw unreadable(file, "not UTF-8 text, which TOML requires");
        } catch (IOException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            // The JDK puts the path in front of the reason ("/x: Is a directory"); it is printed already.
            throw unreadable(file, "cannot read: " + why.replace(file + ": ", ""));
        }
        return parse(text, file);
    }

    /** Checks TOML {@code text} as if it had been read from {@code file}, which only names it in messages. */
    static Config parse(String text, Path file) throws ConfigException {
        if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
            text = text.substring(1);
        }
        JsonNode tree;
        try {
            try (JsonParser p = Toml.FACTORY.createParser(text)) {
                tree = Trees.read(p);
            }
        } catch (JacksonException e) {
            throw syntax(file, text, e.getOriginalMessage(), e.getLocation());
        } catch (IOException | RuntimeException e) {
            // A parser bug on strange input must not take the daemon down with it.
            throw syntax(file, text, "the TOML parser failed: " + e, null);
        }
        if (!(tree instanceof ObjectNode root)) {
            // readTree gives null or a missing node for a file with no key at all.
            return Config.defaults();
        }
        var binder = new Binder(root, file, KeyIndex.of(text));
        Config config = binder.bind();
        List<Problem> problems = binder.problems();
        if (!problems.isEmpty()) {
            throw new ConfigException(problems);
        }
        return config;
    }

    private static String read(Path file) throws IOException {
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            bytes = in.readNBytes(MAX_BYTES + 1);
        }
        if (bytes.length > MAX_BYTES) {
            throw new IOException("larger than " + (MAX_BYTES >> 10) + " KiB; this is not a peekd config");
        }
        return StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .decode(ByteBuffer.wrap(bytes))
                .toString();
    }

    private static ConfigException unreadable(Path file, String why) {
        return new ConfigException(new Problem(Kind.UNREADABLE, file, "", 0, why));
    }

    private static ConfigException syntax(Path file, String text, String message, JsonLocation where) {
        int line = where == null ? 0 : Math.max(where.getLineNr(), 0);
        int column = where == null ? 0 : Math.max(where.getColumnNr(), 0);
        // Jackson decides that the file is broken. tomlj's account is used when it is no later, because
        // Jackson sometimes points past the mistake (a duplicate key is reported on the next line).
        KeyIndex.SyntaxError t = KeyIndex.of(text).firstError();
        if (t != null && (line == 0 || t.line() <= line)) {
            line = t.line();
            column = t.column();
            message = t.message();
        }
        String at = column > 0 ? " at column " + column : "";
        return new ConfigException(new Problem(Kind.SYNTAX, file, "", line, "invalid TOML" + at + ": " + message));
    }
}

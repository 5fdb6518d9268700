package io.peekd.cli;

import io.peekd.config.Config;
import io.peekd.config.ConfigException;
import io.peekd.config.ConfigLoader;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** {@code --config PATH}, shared by every command so tests and several instances can run side by side. */
final class ConfigOption {
    @Option(names = "--config", paramLabel = "PATH",
            description = "Config file to use (default: ${DEFAULT-VALUE}). A missing default file means built-in defaults.")
    Path file = ConfigLoader.DEFAULT_PATH;

    /** Thrown to end a command with exit code 2 after the message was printed. */
    static final class Invalid extends RuntimeException {
        Invalid(String message) {
            super(message);
        }
    }

    Config load() {
        try {
            return ConfigLoader.load(file);
        } catch (ConfigException e) {
            throw new Invalid(e.getMessage());
        }
    }
}

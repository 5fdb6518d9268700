package io.peekd.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.logging.LogManager;

/**
 * java.util.logging's configuration for the short-lived commands: warnings and errors on
 * stderr, nothing below. Named by {@code java.util.logging.config.class}; LogManager
 * instantiates it when the first logger is made.
 */
public final class QuietLogging {
    public QuietLogging() throws IOException {
        String conf = """
                handlers = java.util.logging.ConsoleHandler
                .level = WARNING
                java.util.logging.ConsoleHandler.level = WARNING
                java.util.logging.SimpleFormatter.format = peekd: %4$s: %5$s%6$s%n
                """;
        LogManager.getLogManager().readConfiguration(new ByteArrayInputStream(conf.getBytes(StandardCharsets.UTF_8)));
    }
}

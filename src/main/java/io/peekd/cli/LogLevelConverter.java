package io.peekd.cli;

import io.peekd.config.Config;
import java.util.Locale;
import picocli.CommandLine;

/** {@code --log-level}: the config file's spellings (error, warn, info, debug, trace), any case. */
final class LogLevelConverter implements CommandLine.ITypeConverter<Config.Log.Level> {
    @Override
    public Config.Log.Level convert(String value) {
        try {
            return Config.Log.Level.valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException("'" + value + "' is not a log level: use error, warn, info, debug or trace");
        }
    }
}

package io.peekd.daemon;

import io.peekd.flow.IgnoreRules;
import java.nio.file.Path;
import java.time.Duration;

/** What the daemon needs from the configuration, already validated. */
public record DaemonSettings(
        Path dataDir, Path runDir, Path logDir,
        Duration window, Duration drainInterval,
        int flowMapEntries, int ringBufferKib,
        boolean dbEnabled, IgnoreRules ignore,
        boolean logAddresses, boolean logPorts, boolean logCommands) {

    public Path db() {
        return dataDir.resolve("peekd.db");
    }

    public Path metrics() {
        return runDir.resolve("metrics.json");
    }

    public Path errorLog() {
        return logDir.resolve("error.log");
    }
}

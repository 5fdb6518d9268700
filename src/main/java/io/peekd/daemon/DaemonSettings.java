package io.peekd.daemon;

import io.peekd.config.Config;
import io.peekd.flow.IgnoreRules;
import io.peekd.storeops.StoreOpsSettings;
import java.nio.file.Path;
import java.time.Duration;

/** What the daemon needs from the configuration, already validated. */
public record DaemonSettings(
        Path dataDir, Path runDir, Path logDir,
        Duration window, Duration drainInterval,
        int flowMapEntries, int ringBufferKib,
        boolean dbEnabled, IgnoreRules ignore,
        boolean logAddresses, boolean logPorts, boolean logCommands, int channelCapacity,
        StoreOpsSettings storeOps) {

    public static DaemonSettings from(Config c) {
        var log = c.log();
        IgnoreRules ignore = new IgnoreRules(log.ignorePorts(), log.ignoreDomains(),
                log.ignoreIps().stream().map(Object::toString).toList(), log.ignoreSha256());
        return new DaemonSettings(c.paths().dataDir(), c.paths().runDir(), c.paths().logDir(),
                c.database().writeLimit(), c.capture().drainInterval(), c.capture().flowMapEntries(),
                c.capture().ringBufferKib(), c.database().enabled(), ignore,
                c.database().logAddresses(), c.database().logPorts(), c.database().logCommands(),
                c.broadcast().channelCapacity(), StoreOpsSettings.from(c));
    }

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

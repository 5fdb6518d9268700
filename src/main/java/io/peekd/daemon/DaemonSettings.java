package io.peekd.daemon;

import io.peekd.alert.AlertService;
import io.peekd.config.Config;
import io.peekd.flow.IgnoreRules;
import io.peekd.identity.ExeIdSettings;
import io.peekd.storeops.StoreOpsSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/** What the daemon needs from the configuration, already validated. */
public record DaemonSettings(
        Path dataDir, Path runDir, Path logDir,
        Duration window, Duration drainInterval,
        int flowMapEntries, int ringBufferKib,
        boolean dbEnabled, IgnoreRules ignore,
        boolean logAddresses, boolean logPorts, boolean logCommands, int channelCapacity,
        Duration metricsInterval, int prometheusPort, Config.GeoIp geoip, AlertService.Options alerts,
        ExeIdSettings exeid, StoreOpsSettings storeOps) {

    public static DaemonSettings from(Config c) {
        var log = c.log();
        IgnoreRules ignore = new IgnoreRules(log.ignorePorts(), log.ignoreDomains(),
                log.ignoreIps().stream().map(Object::toString).toList(), log.ignoreSha256());
        return new DaemonSettings(c.paths().dataDir(), c.paths().runDir(), c.paths().logDir(),
                c.database().writeLimit(), c.capture().drainInterval(), c.capture().flowMapEntries(),
                c.capture().ringBufferKib(), c.database().enabled(), ignore,
                c.database().logAddresses(), c.database().logPorts(), c.database().logCommands(),
                c.broadcast().channelCapacity(), c.metrics().interval(), c.metrics().prometheusPort(), c.geoip(),
                AlertService.options(c), ExeIdSettings.from(c), StoreOpsSettings.from(c));
    }

    /** Settings that differ in {@code next} but only take effect after a restart, named as in the config file. */
    List<String> restartNeeded(DaemonSettings next) {
        List<String> out = new ArrayList<>();
        if (!dataDir.equals(next.dataDir) || !runDir.equals(next.runDir) || !logDir.equals(next.logDir)) out.add("[paths]");
        if (!window.equals(next.window)) out.add("database.write_limit_seconds");
        if (dbEnabled != next.dbEnabled) out.add("database.enabled");
        if (flowMapEntries != next.flowMapEntries) out.add("capture.flow_map_entries");
        if (ringBufferKib != next.ringBufferKib) out.add("capture.ring_buffer_kib");
        if (channelCapacity != next.channelCapacity) out.add("broadcast.channel_capacity");
        return out.stream().map(k -> k + " changes at the next restart").toList();
    }

    /** These settings with everything that can change live taken from {@code next}. */
    DaemonSettings withLive(DaemonSettings next) {
        Objects.requireNonNull(next);
        return new DaemonSettings(dataDir, runDir, logDir, window, next.drainInterval, flowMapEntries, ringBufferKib,
                dbEnabled, next.ignore, next.logAddresses, next.logPorts, next.logCommands, channelCapacity,
                next.metricsInterval, next.prometheusPort, geoip, next.alerts, exeid, storeOps);
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

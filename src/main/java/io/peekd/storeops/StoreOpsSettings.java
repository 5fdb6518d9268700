package io.peekd.storeops;

import io.peekd.config.Config;
import io.peekd.store.Retention;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What the storage operations need from the configuration: retention of each table, the
 * maintenance schedule, the socket and who may read through it, the text log and the mirror.
 */
public record StoreOpsSettings(Path socket, Path logDir, Retention.Policy retention, Duration maintenanceInterval,
                               String readerGroup, boolean textLog, Config.Database.Server server) {

    public static StoreOpsSettings from(Config c) {
        var db = c.database();
        return new StoreOpsSettings(c.paths().socket(), c.paths().logDir(),
                new Retention.Policy(db.retentionDays(), db.rollupMinuteDays(), db.rollupHourDays(), db.rollupDayDays()),
                db.maintenanceInterval(), db.readerGroup(), db.textLog(), db.server());
    }
}

package io.peekd.identity;

import io.peekd.config.Config;
import java.nio.file.Path;

/**
 * What executable identity (hashes, NEW_EXE/NEW_HASH, notifications,
 * VirusTotal) needs from the configuration.
 *
 * @param exeLog {@code log_dir/exe.log}, or null when {@code database.text_log} is off
 */
public record ExeIdSettings(Config.Identity identity, boolean everyExe, Path state, Path exeLog,
                            Config.Desktop desktop, Config.VirusTotal virustotal) {

    public static ExeIdSettings from(Config c) {
        return new ExeIdSettings(c.identity(), c.monitoring().everyExe(), c.paths().state(),
                c.database().textLog() ? c.paths().exeLog() : null, c.desktop(), c.virustotal());
    }

    public ExeHashes.Settings hashing() {
        return new ExeHashes.Settings(identity.stDevMask(), identity.fdCacheSize(), identity.hashThreads());
    }
}

package io.peekd.daemon;

import io.peekd.config.Config;

/**
 * Something that takes a new configuration without a restart (SIGHUP).
 * Register with {@link Daemon#onReload}. A hook applies what it can and
 * throws with a clear message for what it cannot; the daemon logs that and
 * keeps running with the rest.
 */
@FunctionalInterface
public interface Reloadable {
    void reload(Config config) throws Exception;
}

package io.peekd.web;

import io.peekd.config.Config;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What the dashboard needs, from the config and the command line.
 *
 * @param token  the access token, required (non-null) for any bind other than loopback
 * @param ignore the {@code ignore_extra.toml} the ignore UI edits
 * @param zone   the zone times are shown in
 * @param reverseDns look up PTR names of the remote addresses the page shows
 */
public record WebOptions(InetAddress bind, int port, String token, List<String> allowedHosts, int refreshSeconds,
                         Duration defaultSince, int topLimit, Path db, IgnoreFile ignore, Optional<Path> geoipDb,
                         ZoneId zone, boolean reverseDns) {

    public WebOptions {
        Objects.requireNonNull(bind, "bind");
        allowedHosts = List.copyOf(allowedHosts);
        Objects.requireNonNull(defaultSince, "defaultSince");
        Objects.requireNonNull(db, "db");
        Objects.requireNonNull(ignore, "ignore");
        Objects.requireNonNull(geoipDb, "geoipDb");
        Objects.requireNonNull(zone, "zone");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535, got " + port);
        if (token == null && !bind.isLoopbackAddress()) {
            throw new IllegalArgumentException("a dashboard bound to " + bind.getHostAddress() + " needs an access token");
        }
    }

    /** Without reverse DNS: tests and benchmarks must not send queries to a real resolver. */
    public WebOptions(InetAddress bind, int port, String token, List<String> allowedHosts, int refreshSeconds,
                      Duration defaultSince, int topLimit, Path db, IgnoreFile ignore, Optional<Path> geoipDb,
                      ZoneId zone) {
        this(bind, port, token, allowedHosts, refreshSeconds, defaultSince, topLimit, db, ignore, geoipDb, zone, false);
    }

    /**
     * The dashboard of a config. {@code portOverride} (from {@code --web-port} or {@code --port})
     * replaces {@code web.port}; {@code bindOverride} replaces {@code web.bind}.
     *
     * @throws Tokens.Problem when the bind is not loopback and there is no usable token: the
     *         dashboard must not start then
     */
    public static WebOptions from(Config c, Path configFile, Integer portOverride, InetAddress bindOverride)
            throws Tokens.Problem {
        var w = c.web();
        InetAddress bind = bindOverride != null ? bindOverride : w.bind();
        String token = null;
        if (!bind.isLoopbackAddress()) {
            Path f = Tokens.file(c.paths().dataDir());
            try {
                token = Tokens.load(f);
            } catch (Tokens.Problem e) {
                throw new Tokens.Problem("refusing to serve the dashboard on " + bind.getHostAddress()
                        + " (not loopback) without an access token: " + e.getMessage());
            }
        }
        return new WebOptions(bind, portOverride != null ? portOverride : w.port(), token, w.allowedHosts(),
                w.refreshSeconds(), w.defaultSince(), w.topLimit(), c.paths().db(), IgnoreFile.nextTo(configFile),
                // web.geoip_db overrides; else the daemon's [geoip] country database, when enabled.
                w.geoipDb().or(() -> c.geoip().enabled() ? Optional.of(c.geoip().countryDb()) : Optional.empty()),
                ZoneId.systemDefault(), w.reverseDns());
    }
}

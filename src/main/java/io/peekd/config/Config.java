package io.peekd.config;

import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * The whole of {@code /etc/peekd/config.toml}, one nested record per section.
 * Values here are already checked by {@link ConfigLoader}; records built by hand
 * only get null checks.
 */
public record Config(
        Paths paths, Database database, Monitoring monitoring, Capture capture, Log log,
        Metrics metrics, Broadcast broadcast, Desktop desktop, Web web, Identity identity,
        VirusTotal virustotal, GeoIp geoip, Alerts alerts) {

    public Config {
        Objects.requireNonNull(paths, "paths");
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(monitoring, "monitoring");
        Objects.requireNonNull(capture, "capture");
        Objects.requireNonNull(log, "log");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(broadcast, "broadcast");
        Objects.requireNonNull(desktop, "desktop");
        Objects.requireNonNull(web, "web");
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(virustotal, "virustotal");
        Objects.requireNonNull(geoip, "geoip");
        Objects.requireNonNull(alerts, "alerts");
    }

    private static final Config DEFAULTS = new Config(
            new Paths(Path.of("/var/lib/peekd"), Path.of("/run/peekd"), Path.of("/var/log/peekd")),
            new Database(true, 30, 5, false, true, true, true, 90, 730, 3650, Duration.ofHours(1), "peekd",
                    Database.Server.OFF),
            new Monitoring(false),
            new Capture(131_072, 1_024, 1_000),
            new Log(List.of(53), List.of("localhost"),
                    List.of(Cidr.parse("127.0.0.0/8"), Cidr.parse("::1/128")), List.of(), Log.Level.INFO),
            new Metrics(30, 0),
            new Broadcast(10_000),
            new Desktop("root", true, ""),
            new Web(false, 5100, InetAddress.ofLiteral("127.0.0.1"), 30, Duration.ofHours(24), 200, List.of(),
                    java.util.Optional.empty()),
            new Identity(OptionalLong.empty(), 1024, 2),
            new VirusTotal("", false, 15, VirusTotal.DEFAULT_BASE_URL),
            new GeoIp(true, Path.of("/var/lib/peekd/geoip/country.mmdb"), Path.of("/var/lib/peekd/geoip/asn.mmdb")),
            new Alerts(Path.of("/etc/peekd/alerts.toml"), 4, 1_000));

    /** What an empty or missing config file means. */
    public static Config defaults() {
        return DEFAULTS;
    }

    /** {@code [paths]}: where peekd keeps its files; overridable so tests and several instances can run side by side. */
    public record Paths(Path dataDir, Path runDir, Path logDir) {
        public Paths {
            Objects.requireNonNull(dataDir, "dataDir");
            Objects.requireNonNull(runDir, "runDir");
            Objects.requireNonNull(logDir, "logDir");
        }

        /** The SQLite connection history. */
        public Path db() {
            return dataDir.resolve("peekd.db");
        }

        /** Known executables and their hashes. */
        public Path state() {
            return dataDir.resolve("state.json");
        }

        /** The Unix socket for RPC queries. */
        public Path socket() {
            return socketIn(runDir);
        }

        static Path socketIn(Path runDir) {
            return runDir.resolve("peekd.sock");
        }

        /** The runtime metrics snapshot. */
        public Path metrics() {
            return runDir.resolve("metrics.json");
        }

        /** The daemon's structured log. */
        public Path log() {
            return logDir.resolve("peekd.log");
        }

        /** Errors only, including every lost event. */
        public Path errorLog() {
            return logDir.resolve("error.log");
        }

        /** New-executable events, written when {@code database.text_log} is on. */
        public Path exeLog() {
            return logDir.resolve("exe.log");
        }
    }

    /**
     * {@code [database]}.
     *
     * @param rollupMinuteDays    days the minute rollups are kept (at least retentionDays)
     * @param rollupHourDays      days the hour rollups are kept (at least rollupMinuteDays)
     * @param rollupDayDays       days the day rollups are kept (at least rollupHourDays)
     * @param maintenanceInterval how often the daemon applies retention
     * @param readerGroup         members of this group see every process through the socket; "" for none
     * @param server              the off-host mirror, {@code [database.server]}
     */
    public record Database(
            boolean enabled, int retentionDays, int writeLimitSeconds, boolean textLog,
            boolean logAddresses, boolean logPorts, boolean logCommands,
            int rollupMinuteDays, int rollupHourDays, int rollupDayDays, Duration maintenanceInterval,
            String readerGroup, Server server) {

        public Database {
            Objects.requireNonNull(maintenanceInterval, "maintenanceInterval");
            Objects.requireNonNull(readerGroup, "readerGroup");
            Objects.requireNonNull(server, "server");
        }

        /** The keys from before rollups and the mirror existed; those take their defaults. */
        public Database(boolean enabled, int retentionDays, int writeLimitSeconds, boolean textLog,
                        boolean logAddresses, boolean logPorts, boolean logCommands) {
            this(enabled, retentionDays, writeLimitSeconds, textLog, logAddresses, logPorts, logCommands,
                    Math.max(90, retentionDays), Math.max(730, retentionDays), Math.max(3650, retentionDays),
                    Duration.ofHours(1), "peekd", Server.OFF);
        }

        /**
         * {@code [database.server]}: a PostgreSQL or MariaDB/MySQL server that receives a copy of
         * every stored row. An empty {@code type} turns it off.
         *
         * @param port            0 means the type's usual port (5432 or 3306)
         * @param credentialsFile a root-only file with {@code user} and {@code password}, which
         *                        then override the ones here; null for none
         * @param table           the table on the server (created if missing)
         * @param hostLabel       the value of the {@code host} column; "" means this machine's host name
         * @param batchRows       rows sent per server transaction
         */
        public record Server(String type, String host, int port, String database, String user, String password,
                             Path credentialsFile, String table, String hostLabel, int batchRows) {

            public static final Server OFF = new Server("", "127.0.0.1", 0, "peekd", "peekd", "", null,
                    "peekd_flows", "", 500);

            public Server {
                Objects.requireNonNull(type, "type");
                Objects.requireNonNull(host, "host");
                Objects.requireNonNull(database, "database");
                Objects.requireNonNull(user, "user");
                Objects.requireNonNull(password, "password");
                Objects.requireNonNull(table, "table");
                Objects.requireNonNull(hostLabel, "hostLabel");
            }

            public boolean enabled() {
                return !type.isEmpty();
            }

            /** The port to connect to: the configured one, or the type's usual one. */
            public int effectivePort() {
                return port != 0 ? port : type.equals("postgresql") ? 5432 : 3306;
            }

            // The password is a secret: keep it out of logs that print the config.
            @Override
            public String toString() {
                return "Server[type=" + type + ", host=" + host + ", port=" + port + ", database=" + database
                        + ", user=" + user + ", password=" + (password.isEmpty() ? "" : "(set)") + ", credentialsFile="
                        + credentialsFile + ", table=" + table + ", hostLabel=" + hostLabel + ", batchRows=" + batchRows + "]";
            }
        }

        public Duration retention() {
            return Duration.ofDays(retentionDays);
        }

        public Duration writeLimit() {
            return Duration.ofSeconds(writeLimitSeconds);
        }
    }

    /** {@code [monitoring]}. */
    public record Monitoring(boolean everyExe) {
    }

    /** {@code [capture]}: sizes and timing of the kernel side. */
    public record Capture(int flowMapEntries, int ringBufferKib, int drainIntervalMs) {

        public long ringBufferBytes() {
            return ringBufferKib * 1024L;
        }

        public Duration drainInterval() {
            return Duration.ofMillis(drainIntervalMs);
        }
    }

    /** {@code [log]}: what to leave out of the history, and how much the daemon logs. */
    public record Log(List<Integer> ignorePorts, List<String> ignoreDomains, List<Cidr> ignoreIps,
                      List<String> ignoreSha256, Level level) {

        public Log {
            ignorePorts = List.copyOf(ignorePorts);
            ignoreDomains = List.copyOf(ignoreDomains);
            ignoreIps = List.copyOf(ignoreIps);
            ignoreSha256 = List.copyOf(ignoreSha256);
            Objects.requireNonNull(level, "level");
        }

        public enum Level {
            ERROR, WARN, INFO, DEBUG, TRACE;

            /** The spelling used in the config file. */
            public String configName() {
                return name().toLowerCase(Locale.ROOT);
            }
        }
    }

    /** {@code [metrics]}. {@code prometheusPort} 0 means no Prometheus endpoint. */
    public record Metrics(int intervalSeconds, int prometheusPort) {

        public Duration interval() {
            return Duration.ofSeconds(intervalSeconds);
        }
    }

    /** {@code [broadcast]}. */
    public record Broadcast(int channelCapacity) {
    }

    /**
     * {@code [desktop]}. {@code busAddress} is the session bus socket of {@code user}
     * ({@code /path} or {@code unix:path=/path}); empty means {@code /run/user/<uid>/bus}.
     */
    public record Desktop(String user, boolean notifications, String busAddress) {
        public Desktop {
            Objects.requireNonNull(user, "user");
            Objects.requireNonNull(busAddress, "busAddress");
        }

        public Desktop(String user, boolean notifications) {
            this(user, notifications, "");
        }
    }

    /**
     * {@code [web]}. {@code allowedHosts}: host names, besides IP literals and localhost, that the
     * dashboard answers to (DNS rebinding guard). An empty {@code geoipDb} means: look for a
     * country database in the usual places. {@code reverseDns}: show PTR names of remote addresses.
     */
    public record Web(boolean enabled, int port, InetAddress bind, int refreshSeconds, Duration defaultSince,
                      int topLimit, List<String> allowedHosts, java.util.Optional<Path> geoipDb, boolean reverseDns) {
        public Web {
            Objects.requireNonNull(bind, "bind");
            Objects.requireNonNull(defaultSince, "defaultSince");
            allowedHosts = List.copyOf(allowedHosts);
            Objects.requireNonNull(geoipDb, "geoipDb");
        }

        /** With reverse DNS on, the default. */
        public Web(boolean enabled, int port, InetAddress bind, int refreshSeconds, Duration defaultSince,
                   int topLimit, List<String> allowedHosts, java.util.Optional<Path> geoipDb) {
            this(enabled, port, bind, refreshSeconds, defaultSince, topLimit, allowedHosts, geoipDb, true);
        }
    }

    /** {@code [identity]}. An empty {@code stDevMask} means: choose from the file system (0 on btrfs). */
    public record Identity(OptionalLong stDevMask, int fdCacheSize, int hashThreads) {
        public Identity {
            Objects.requireNonNull(stDevMask, "stDevMask");
        }
    }

    /**
     * {@code [geoip]}: MaxMind-format databases for country and ASN of public
     * remote addresses. A missing file turns that lookup off (logged once).
     */
    public record GeoIp(boolean enabled, Path countryDb, Path asnDb) {
        public GeoIp {
            Objects.requireNonNull(countryDb, "countryDb");
            Objects.requireNonNull(asnDb, "asnDb");
        }
    }

    /** {@code [virustotal]}. An empty {@code apiKey} turns VirusTotal off. */
    public record VirusTotal(String apiKey, boolean fileUpload, int requestLimitSeconds, String baseUrl) {
        /** The real service; tests and proxies may point {@code base_url} elsewhere. */
        public static final String DEFAULT_BASE_URL = "https://www.virustotal.com";

        public VirusTotal {
            Objects.requireNonNull(apiKey, "apiKey");
            Objects.requireNonNull(baseUrl, "baseUrl");
        }

        public VirusTotal(String apiKey, boolean fileUpload, int requestLimitSeconds) {
            this(apiKey, fileUpload, requestLimitSeconds, DEFAULT_BASE_URL);
        }

        public boolean enabled() {
            return !apiKey.isEmpty();
        }

        // The key is a secret: keep it out of logs that print the config.
        @Override
        public String toString() {
            return "VirusTotal[apiKey=" + (apiKey.isEmpty() ? "" : "(set)") + ", fileUpload=" + fileUpload
                    + ", requestLimitSeconds=" + requestLimitSeconds + ", baseUrl=" + baseUrl + "]";
        }
    }

    /**
     * {@code [alerts]}: where the alert rules are, and how many of their actions may run or wait.
     *
     * @param actionThreads exec and notify actions running at once
     * @param actionQueue   actions waiting for a thread (and webhook deliveries under way) before more are dropped
     */
    public record Alerts(Path file, int actionThreads, int actionQueue) {
        public Alerts {
            Objects.requireNonNull(file, "file");
        }
    }
}

package io.peekd.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.util.List;
import java.util.function.Consumer;

/**
 * Writes a {@link Config} as TOML that {@link ConfigLoader} reads back to an equal
 * config, for example to show the effective config of a running daemon. Comments
 * are not kept; the shipped {@code config/config.toml} is the commented version.
 */
public final class ConfigWriter {

    private static final TomlMapper TOML = new TomlMapper();

    private ConfigWriter() {
    }

    /**
     * @param withSecrets whether to write {@code virustotal.api_key} and {@code database.server.password};
     *                    when false they are written as ""
     */
    public static String toToml(Config c, boolean withSecrets) {
        var out = new StringBuilder();
        table(out, "paths", t -> t
                .put("data_dir", c.paths().dataDir().toString())
                .put("run_dir", c.paths().runDir().toString())
                .put("log_dir", c.paths().logDir().toString()));
        var db = c.database();
        table(out, "database", t -> t
                .put("enabled", db.enabled())
                .put("retention_days", db.retentionDays())
                .put("write_limit_seconds", db.writeLimitSeconds())
                .put("text_log", db.textLog())
                .put("log_addresses", db.logAddresses())
                .put("log_ports", db.logPorts())
                .put("log_commands", db.logCommands())
                .put("rollup_minute_days", db.rollupMinuteDays())
                .put("rollup_hour_days", db.rollupHourDays())
                .put("rollup_day_days", db.rollupDayDays())
                .put("maintenance_interval", Durations.format(db.maintenanceInterval()))
                .put("reader_group", db.readerGroup()));
        var sv = db.server();
        table(out, "database.server", t -> {
            t.put("type", sv.type()).put("host", sv.host()).put("port", sv.port()).put("database", sv.database())
                    .put("user", sv.user()).put("password", withSecrets ? sv.password() : "");
            // Absent means "no credentials file", which no value can say.
            if (sv.credentialsFile() != null) {
                t.put("credentials_file", sv.credentialsFile().toString());
            }
            t.put("table", sv.table()).put("host_label", sv.hostLabel()).put("batch_rows", sv.batchRows());
        });
        table(out, "monitoring", t -> t.put("every_exe", c.monitoring().everyExe()));
        var cap = c.capture();
        table(out, "capture", t -> t
                .put("flow_map_entries", cap.flowMapEntries())
                .put("ring_buffer_kib", cap.ringBufferKib())
                .put("drain_interval_ms", cap.drainIntervalMs()));
        var log = c.log();
        table(out, "log", t -> {
            ArrayNode ports = t.putArray("ignore_ports");
            log.ignorePorts().forEach(ports::add);
            strings(t.putArray("ignore_domains"), log.ignoreDomains());
            strings(t.putArray("ignore_ips"), log.ignoreIps().stream().map(Cidr::toString).toList());
            strings(t.putArray("ignore_sha256"), log.ignoreSha256());
            t.put("level", log.level().configName());
        });
        table(out, "metrics", t -> t
                .put("interval_seconds", c.metrics().intervalSeconds())
                .put("prometheus_port", c.metrics().prometheusPort()));
        table(out, "broadcast", t -> t.put("channel_capacity", c.broadcast().channelCapacity()));
        table(out, "desktop", t -> t
                .put("user", c.desktop().user())
                .put("notifications", c.desktop().notifications())
                .put("bus_address", c.desktop().busAddress()));
        var web = c.web();
        table(out, "web", t -> {
            t.put("enabled", web.enabled())
                    .put("port", web.port())
                    .put("bind", Cidr.text(web.bind()))
                    .put("refresh_seconds", web.refreshSeconds())
                    .put("default_since", Durations.format(web.defaultSince()))
                    .put("top_limit", web.topLimit())
                    .put("reverse_dns", web.reverseDns());
            strings(t.putArray("allowed_hosts"), web.allowedHosts());
            // Absent means "look in the usual places", which no value can say.
            web.geoipDb().ifPresent(p -> t.put("geoip_db", p.toString()));
        });
        var id = c.identity();
        table(out, "identity", t -> {
            // Absent means "choose automatically", which no value can say.
            id.stDevMask().ifPresent(m -> t.put("st_dev_mask", m));
            t.put("fd_cache_size", id.fdCacheSize()).put("hash_threads", id.hashThreads());
        });
        var vt = c.virustotal();
        table(out, "virustotal", t -> t
                .put("api_key", withSecrets ? vt.apiKey() : "")
                .put("file_upload", vt.fileUpload())
                .put("request_limit_seconds", vt.requestLimitSeconds())
                .put("base_url", vt.baseUrl()));
        var g = c.geoip();
        table(out, "geoip", t -> t
                .put("enabled", g.enabled())
                .put("country_db", g.countryDb().toString())
                .put("asn_db", g.asnDb().toString()));
        var al = c.alerts();
        table(out, "alerts", t -> t
                .put("file", al.file().toString())
                .put("action_threads", al.actionThreads())
                .put("action_queue", al.actionQueue()));
        return out.toString();
    }

    private static void table(StringBuilder out, String name, Consumer<ObjectNode> fill) {
        ObjectNode t = TOML.createObjectNode();
        fill.accept(t);
        if (!out.isEmpty()) {
            out.append('\n');
        }
        out.append('[').append(name).append("]\n");
        try {
            // Jackson writes the keys of one flat table, escaping strings as TOML requires.
            out.append(TOML.writeValueAsString(t));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write [" + name + "] as TOML", e);
        }
    }

    private static void strings(ArrayNode array, List<String> values) {
        values.forEach(array::add);
    }
}

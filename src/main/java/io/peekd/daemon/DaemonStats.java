package io.peekd.daemon;

import io.peekd.capture.CaptureStats;
import io.peekd.store.WriterStats;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;

/**
 * One consistent look at the daemon's counters, for metrics.json, Prometheus
 * and the systemd watchdog.
 *
 * @param events        kernel events by kind (exec, new_flow, exit, close) since start
 * @param writer        null when the database is off
 * @param subscribers   per subscriber: dropped, failed, queued
 * @param rowsRecorded  rows of closed windows handed on (store and subscribers), after ignore rules
 * @param lastDrain     when the drain loop last finished a pass; null before the first
 * @param domainRejected hostile or malformed DNS/TLS/QUIC/HTTP evidence dropped, by parser
 * @param resolverProbe whether the getaddrinfo uprobes are attached, or why not
 */
public record DaemonStats(
        long pid, Instant started, String hookSet, CaptureStats capture, Map<String, Long> events,
        long drains, Instant lastDrain, long rowsRecorded, long rowsIgnored, int backlogWindows,
        Path db, WriterStats writer, Map<String, long[]> subscribers, int processes,
        Map<String, Long> domainRejected, String resolverProbe) {
}

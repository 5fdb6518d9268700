package io.peekd.store;

import java.time.Instant;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;

/** Test rows: a few distinct processes and flows with readable defaults. */
final class Rows {

    static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
    static final Instant T1 = Instant.parse("2026-11-22T10:00:05Z");

    private Rows() {
    }

    static Identity curl(int pid) {
        return new Identity("/usr/bin/curl", "curl", "curl https://example.org", "aa".repeat(32), pid,
                "/usr/bin/bash", "bash", "-bash", "bb".repeat(32), 100, 1000, "alice", null, null);
    }

    static Identity wget(int pid) {
        return new Identity("/usr/bin/wget", "wget", "wget -q x", "cc".repeat(32), pid,
                "/usr/bin/bash", "bash", "-bash", "bb".repeat(32), 100, 0, "root", "/system.slice/x", "web");
    }

    static FlowRow tcp(Instant t, Identity id, int lport, long sent, long recv, long conns) {
        return new FlowRow(t, id, "tcp", 4, "10.0.0.1", lport, "93.184.216.34", 443,
                "example.org", "dns", "high", sent, recv, conns);
    }
}

package io.peekd.alert;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import java.time.Instant;

/** Rows for alert tests; the one place that builds FlowRow, so a new row field is one edit. */
final class AlertRows {
    static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");

    private AlertRows() {
    }

    static Identity id(String exe, String name) {
        return new Identity(exe, name, name + " --flag", "ab".repeat(32), 4242, "/usr/bin/bash", "bash", "-bash",
                "cd".repeat(32), 100, 1000, "alice", "/user.slice", null);
    }

    static FlowRow row(String exe, String raddr, int rport, String domain) {
        return row(id(exe, exe.substring(exe.lastIndexOf('/') + 1)), "tcp", raddr, rport, domain, 100, 200);
    }

    static FlowRow row(Identity id, String proto, String raddr, int rport, String domain, long sent, long recv) {
        return new FlowRow(T0, id, proto, raddr != null && raddr.contains(":") ? 6 : 4, "10.0.0.2", 40000, raddr, rport,
                domain, domain == null ? null : "dns", domain == null ? null : "high", sent, recv, 1);
    }
}

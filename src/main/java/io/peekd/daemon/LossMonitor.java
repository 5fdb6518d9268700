package io.peekd.daemon;

import io.peekd.capture.CaptureStats;
import java.util.ArrayList;
import java.util.List;

/** Turns growth of any loss counter into one error line per drain that saw it. */
final class LossMonitor {
    private CaptureStats last;

    /** Returns a description of what was lost since the previous call, or null if nothing was. */
    String check(CaptureStats now) {
        CaptureStats prev = last;
        last = now;
        if (prev == null) prev = new CaptureStats(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        List<String> parts = new ArrayList<>();
        add(parts, now.ringDropExec() - prev.ringDropExec(), "exec events dropped (ring buffer full; raise [capture] ring_buffer_kib)");
        add(parts, now.ringDropFlow() - prev.ringDropFlow(), "new-flow events dropped (ring buffer full)");
        add(parts, now.ringDropOther() - prev.ringDropOther(), "exit/close events dropped (ring buffer full)");
        add(parts, now.ringDropDomain() - prev.ringDropDomain(), "DNS/first-bytes/getaddrinfo records dropped (ring buffer full)");
        long full = now.mapFull() - prev.mapFull();
        if (full > 0)
            parts.add(full + " updates found the flow map full, leaving " + (now.mapFullSentBytes() - prev.mapFullSentBytes())
                    + " sent and " + (now.mapFullRecvBytes() - prev.mapFullRecvBytes())
                    + " received bytes unattributed (raise [capture] flow_map_entries)");
        add(parts, now.skStorageFail() - prev.skStorageFail(), "socket-state allocations failed");
        add(parts, now.pendingFull() - prev.pendingFull(), "datagram addresses could not be remembered");
        add(parts, now.ringUndecodable() - prev.ringUndecodable(), "ring records could not be decoded");
        add(parts, now.ringHandlerErrors() - prev.ringHandlerErrors(), "ring records failed in the handler");
        return parts.isEmpty() ? null : "capture loss: " + String.join("; ", parts);
    }

    private static void add(List<String> parts, long n, String what) {
        if (n > 0) parts.add(n + " " + what);
    }
}

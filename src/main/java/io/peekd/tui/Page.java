package io.peekd.tui;

import java.time.Instant;
import java.util.List;

/**
 * The answer to one {@link ViewQuery}.
 *
 * @param entries   largest total first (newest first on the time tab)
 * @param sent      sum over all matching rows, including any cut off by the row limit
 * @param truncated more keys matched than {@link ViewQuery#MAX_ENTRIES}
 * @param bucket    on the time tab, the width of a row in seconds; otherwise 0
 * @param liveRows  rows from the daemon, not in the database snapshot, counted in this page
 * @param liveNote  why the daemon's part may be missing or partial, or null
 * @param keptFrom  the start of the raw windows retention left, when the range reaches
 *                  before it (this view reads only raw windows), or null
 */
record Page(ViewQuery query, List<Entry> entries, long sent, long recv, boolean truncated, long bucket, int liveRows,
            String liveNote, Instant keptFrom) {

    long total() {
        return sent + recv;
    }

    /** What the range misses, for the status line: older traffic is only in the rollups. */
    String historyNote() {
        if (keptFrom == null) return null;
        return "rows kept from " + java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm")
                .format(keptFrom.atZone(query.zone())) + "; older sums: peekd report";
    }
}

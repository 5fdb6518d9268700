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
 *                  before it, or null
 * @param fromRollups whether the range's part before {@code keptFrom} came from the rollups
 *                  (see {@link History}); if not, it is missing
 */
record Page(ViewQuery query, List<Entry> entries, long sent, long recv, boolean truncated, long bucket, int liveRows,
            String liveNote, Instant keptFrom, boolean fromRollups) {

    long total() {
        return sent + recv;
    }

    /** Where the range's older part came from, or that it is missing, for the status line. */
    String historyNote() {
        if (keptFrom == null) return null;
        String when = java.time.format.DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm").format(keptFrom.atZone(query.zone()));
        return fromRollups ? "before " + when + ": rollup sums" : "rows kept from " + when
                + "; older sums: other tabs, peekd report";
    }
}

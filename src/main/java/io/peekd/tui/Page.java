package io.peekd.tui;

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
 */
record Page(ViewQuery query, List<Entry> entries, long sent, long recv, boolean truncated, long bucket, int liveRows,
            String liveNote) {

    long total() {
        return sent + recv;
    }
}

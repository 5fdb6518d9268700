package io.peekd.tui;

import java.util.List;

import io.peekd.flow.FlowRow;

/**
 * What the daemon adds to one database snapshot of the view.
 *
 * @param rows rows the snapshot does not hold: windows committed after it and windows not
 *             stored yet
 * @param note why they may not be all there is (the daemon failed, its writer is behind, it
 *             answers only for the caller's own processes), or null
 */
record Live(List<FlowRow> rows, String note) {

    static final Live NONE = new Live(List.of(), null);

    Live {
        rows = List.copyOf(rows);
    }

    /** Asks for the rows newer than a snapshot; see {@link DaemonFeed#after}. */
    @FunctionalInterface
    interface Source {
        Live after(Long newestStored, Long since);
    }
}

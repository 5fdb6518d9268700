package io.peekd.store;

/** Traffic summed over a query's rows for one executable path and process name. */
public record Totals(String exe, String name, long sent, long recv, long conns) {

    public long total() {
        return sent + recv;
    }
}

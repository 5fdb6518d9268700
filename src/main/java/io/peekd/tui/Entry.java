package io.peekd.tui;

/**
 * One row of a tab: a key and the bytes moved under it.
 *
 * @param key     the SQL value (String, Long or null) used to filter on this row
 * @param label   how the key reads on screen (not yet sanitized)
 * @param missing the key is NULL: the label is a placeholder such as "(unknown)"
 * @param note    the verdict or country column, or null
 */
record Entry(Object key, String label, boolean missing, long sent, long recv, String note) {

    long total() {
        return sent + recv;
    }

    Entry withNote(String n) {
        return new Entry(key, label, missing, sent, recv, n);
    }
}

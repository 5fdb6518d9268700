package io.peekd.store;

import java.time.Instant;

/**
 * A filter over stored rows. Any null means "no filter" on that field.
 *
 * @param since  rows whose window starts at or after this instant
 * @param until  rows whose window starts before this instant
 * @param name   exact process name
 * @param exe    exact executable path
 * @param limit  at most this many results; 0 means all
 */
public record Query(Instant since, Instant until, String name, String exe, int limit) {

    public Query {
        if (limit < 0) {
            throw new IllegalArgumentException("limit must be 0 (no limit) or positive, got " + limit);
        }
        if (since != null && until != null && since.isAfter(until)) {
            throw new IllegalArgumentException("since " + since + " is after until " + until);
        }
    }

    /** Everything, no limit. */
    public static Query all() {
        return new Query(null, null, null, null, 0);
    }
}

package io.peekd.store;

import java.time.Instant;

/**
 * Size and extent of a database, for {@code peekd status}.
 *
 * @param oldest start of the oldest stored window, null when there are no rows
 * @param newest start of the newest stored window, null when there are no rows
 */
public record Stats(int schemaVersion, long exes, long idents, long flows,
                    long fileBytes, long walBytes, Instant oldest, Instant newest) {
}

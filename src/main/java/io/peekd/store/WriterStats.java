package io.peekd.store;

import java.time.Duration;
import java.time.Instant;

/**
 * A snapshot of the writer's health, for {@code peekd status} and metrics.
 *
 * @param pendingBatches      submitted but not yet committed, including the one being written
 * @param pendingRows         rows in those batches
 * @param lastCommitLatency   time of the last successful transaction, null before the first
 * @param failedAttempts      commits that failed since start (each retry counts)
 * @param consecutiveFailures failures since the last successful commit; 0 when healthy
 * @param lastError           the most recent failure, kept after recovery; null if none yet
 * @param rejectedBatches     submits refused because the queue stayed full
 */
public record WriterStats(long batchesWritten, long rowsWritten, int pendingBatches, long pendingRows,
                          Duration lastCommitLatency, long failedAttempts, long consecutiveFailures,
                          String lastError, Instant lastErrorAt, long rejectedBatches) {

    public boolean failing() {
        return consecutiveFailures > 0;
    }
}

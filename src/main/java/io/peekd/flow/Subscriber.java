package io.peekd.flow;

import io.peekd.capture.KernelEvent;
import java.time.Instant;
import java.util.List;

/**
 * Something that follows the daemon's output: alerts, notifications, metrics,
 * the web dashboard, a mirror. Each subscriber runs on its own thread behind a
 * bounded queue ({@code [broadcast] channel_capacity}), so a slow one can
 * never stall capture; what it misses is counted, not hidden.
 */
public interface Subscriber {

    /** A short name for logs and metrics. */
    String name();

    /** A kernel event (exec, new flow, exit). Default: ignored. */
    default void onEvent(KernelEvent event) {
    }

    /** An error-log line or a warning (VirusTotal) worth telling the operator. Default: ignored. */
    default void onNotice(Notice notice) {
    }

    /** The rows of one closed window, as they are handed to the store. */
    default void onBatch(Instant window, List<FlowRow> rows) {
    }

    /** The daemon is stopping; release resources. */
    default void close() {
    }
}

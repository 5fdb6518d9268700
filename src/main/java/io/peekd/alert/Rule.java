package io.peekd.alert;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One {@code [[alerts]]} rule of alerts.toml, checked.
 *
 * @param line       where the rule starts in the file, for messages
 * @param dedup      a second alert with the same rule and key within this time is suppressed; zero: never
 * @param maxPerHour at most this many alerts of this rule in any hour; 0: no limit
 */
record Rule(String name, int line, String description, boolean enabled, Criteria criteria, Events events,
            Threshold threshold, List<Action> actions, Duration timeout, int retries, Duration dedup,
            int maxPerHour) {

    /** Which kind of happening the rule is about. All set flags must hold. */
    record Events(boolean newExe, boolean newHash, boolean newDomain, boolean error) {
        static final Events NONE = new Events(false, false, false, false);
    }

    /**
     * Bytes moved by one executable on the rule's matching flows, summed over a window
     * (the daemon's write window when none is given).
     */
    record Threshold(long minSent, long minRecv, Duration window) {
        static final Threshold NONE = new Threshold(0, 0, null);

        boolean isSet() {
            return minSent > 0 || minRecv > 0;
        }
    }

    sealed interface Action {
        String kind();

        /** Runs a program without a shell; values go in as argv elements and PEEKD_* variables. */
        record Exec(Template command) implements Action {
            public String kind() {
                return "exec";
            }
        }

        /** POSTs the alert as JSON. */
        record Webhook(URI url, Map<String, String> headers) implements Action {
            public String kind() {
                return "webhook";
            }
        }

        /** A line in peekd.log. */
        record Log() implements Action {
            public String kind() {
                return "log";
            }
        }

        /** A desktop notification through the daemon's {@link Notifier}. */
        record Notify() implements Action {
            public String kind() {
                return "notify";
            }
        }
    }

    String actionKinds() {
        return String.join(",", actions.stream().map(Action::kind).toList());
    }

    /** A short human description of what the rule matches, for {@code peekd alerts list}. */
    String matchSummary() {
        StringBuilder sb = new StringBuilder();
        if (events.newExe()) sb.append("new exe; ");
        if (events.newHash()) sb.append("new hash; ");
        if (events.newDomain()) sb.append("new domain; ");
        if (events.error()) sb.append("daemon error; ");
        if (threshold.isSet()) {
            if (threshold.minSent() > 0) sb.append("sent >= ").append(threshold.minSent()).append(" B; ");
            if (threshold.minRecv() > 0) sb.append("recv >= ").append(threshold.minRecv()).append(" B; ");
        }
        if (!criteria.isEmpty()) sb.append("flow fields");
        String s = sb.toString().replaceAll("; $", "");
        return s.isEmpty() ? "every flow" : s;
    }
}

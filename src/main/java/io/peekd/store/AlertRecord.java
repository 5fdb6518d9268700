package io.peekd.store;

import java.time.Instant;

/**
 * One fired alert in the alert log ({@code peekd alerts log}, the dashboard's alert panel).
 *
 * @param ref        unique id, used to store the action result when it is known
 * @param event      flow, new_exe, new_hash, new_domain, threshold or error
 * @param actions    the rule's actions, comma-separated (exec,webhook,log,notify)
 * @param result     pending, ok, failed, timeout or dropped
 * @param detail     what the actions reported, one line per action
 * @param suppressed alerts of this rule suppressed (dedup, rate limit) since the previous one fired
 * @param flowJson   the matched row as a JSON object with the fields of {@code peekd query --json}, or null
 * @param message    the daemon error an on_error rule fired on, or null
 * @param finished   when the actions finished, or null while pending
 */
public record AlertRecord(String ref, Instant time, String rule, String event, String actions, String result,
                          String detail, long suppressed, String exe, String domain, String raddr, Integer rport,
                          String flowJson, String message, Instant finished) {
}

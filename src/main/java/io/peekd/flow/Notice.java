package io.peekd.flow;

/**
 * Something the operator should hear about that is not a row: a line of
 * error.log (losses, hash failures, a full disk), or a warning such as a
 * VirusTotal verdict. Subscribers (desktop notifications, alerts) get them
 * through {@link Subscriber#onNotice}.
 *
 * @param source short origin, e.g. {@code "error.log"}, {@code "virustotal"}
 * @param subject what it is about (an executable's path), or null
 */
public record Notice(Severity severity, String source, String subject, String text) {

    public enum Severity { INFO, WARNING, ERROR, CRITICAL }
}

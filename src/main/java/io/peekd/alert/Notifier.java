package io.peekd.alert;

/**
 * Shows a desktop notification. The desktop-notification component implements this and
 * hands it to {@link AlertService#useNotifier}; until then {@link #LOG} writes the
 * notification to peekd.log. Implementations may block briefly (they run on an action
 * thread) and should throw on failure, which is recorded as the action's result.
 */
public interface Notifier {

    /**
     * @param title short, e.g. "peekd alert: curl-outbound"
     * @param body  one line; values in it are untrusted and already stripped of control characters
     */
    void notify(String title, String body) throws Exception;

    Notifier LOG = (title, body) -> System.getLogger("peekd.alerts")
            .log(System.Logger.Level.WARNING, "notification (no desktop notifier in this build): " + title + ": " + body);
}

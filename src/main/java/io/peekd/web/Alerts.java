package io.peekd.web;

import java.util.List;

/**
 * Where the dashboard's alert log panel reads from. The alert engine plugs in an
 * implementation ({@link WebServer#alerts(Alerts)}); until then the panel is empty and says why.
 */
public interface Alerts {

    /**
     * One fired alert, as {@code /api/alerts} shows it.
     *
     * @param time   epoch seconds
     * @param flags  e.g. {@code NEW_EXE}, {@code NEW_HASH}
     * @param action {@code exec} or {@code webhook}
     * @param status {@code ok}, {@code failed} or {@code pending}
     */
    record Alert(long time, String rule, List<String> flags, String exe, String sha256, int pid, String raddr,
                 int rport, String domain, String action, String status, String detail) {
        public Alert {
            flags = List.copyOf(flags);
        }
    }

    /** Alerts fired in [from, to) epoch seconds, newest first, at most {@code limit}. */
    List<Alert> recent(long from, long to, int limit);
}

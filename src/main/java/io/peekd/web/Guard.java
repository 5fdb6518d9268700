package io.peekd.web;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import java.net.InetAddress;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The checks every request passes before it reaches a view:
 * <ul>
 * <li>the Host header must name this server: an IP literal, {@code localhost}, or one of
 *     {@code web.allowed_hosts}. A DNS rebinding page reaches us under its own host name and
 *     is refused, so it can read nothing;</li>
 * <li>with a token (any non-loopback bind), the request must carry it: the session cookie,
 *     set by opening {@code /?token=...} once, or {@code Authorization: Bearer ...};</li>
 * <li>a request that changes anything must be a same-origin JSON POST carrying the CSRF token
 *     of {@code /api/meta}: a cross-site form cannot set the header or the content type, and a
 *     cross-site script cannot read the token (no CORS headers are ever sent).</li>
 * </ul>
 */
final class Guard {

    /** Why a request is refused; the message is shown to the caller. */
    record Denial(int status, String message) {
    }

    static final String CSRF_HEADER = "X-Peekd-Csrf";

    private final String token;
    private final String csrf;
    private final Set<String> allowedHosts;
    private final String cookie;

    Guard(String token, String csrf, List<String> allowedHosts, int port) {
        this.token = token;
        this.csrf = csrf;
        this.allowedHosts = Set.copyOf(allowedHosts.stream().map(h -> h.toLowerCase(Locale.ROOT)).toList());
        // Cookies are per host, not per port: two dashboards on one host must not overwrite each other's.
        this.cookie = "peekd_token_" + port;
    }

    String csrf() {
        return csrf;
    }

    boolean tokenRequired() {
        return token != null;
    }

    String cookieName() {
        return cookie;
    }

    Denial checkHost(HttpExchange ex) {
        List<String> hosts = ex.getRequestHeaders().get("Host");
        if (hosts == null || hosts.size() != 1) return new Denial(400, "exactly one Host header is required");
        String host = hostPart(hosts.getFirst());
        if (host == null) return new Denial(400, "malformed Host header");
        if (host.equals("localhost") || allowedHosts.contains(host) || isIpLiteral(host)) return null;
        return new Denial(421, "this dashboard does not answer to the host name \"" + host
                + "\"; open it by IP address or localhost, or add the name to web.allowed_hosts");
    }

    /** The host of a Host header, lower-case, without port and trailing dot; null when malformed. */
    static String hostPart(String header) {
        String h = header.strip().toLowerCase(Locale.ROOT);
        if (h.startsWith("[")) {
            int end = h.indexOf(']');
            if (end < 0) return null;
            String rest = h.substring(end + 1);
            if (!rest.isEmpty() && !rest.matches(":\\d{1,5}")) return null;
            return h.substring(0, end + 1);
        }
        int colon = h.indexOf(':');
        if (colon >= 0) {
            if (!h.substring(colon).matches(":\\d{1,5}")) return null;
            h = h.substring(0, colon);
        }
        if (h.endsWith(".")) h = h.substring(0, h.length() - 1);
        if (h.isEmpty() || !h.matches("[a-z0-9.-]+")) return null;
        return h;
    }

    private static boolean isIpLiteral(String host) {
        String h = host.startsWith("[") ? host.substring(1, host.length() - 1) : host;
        if (!h.matches("[0-9a-f:.]+")) return false;
        try {
            InetAddress.ofLiteral(h);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Null when no token is needed or the request carries it. */
    Denial checkToken(HttpExchange ex) {
        if (token == null) return null;
        Headers h = ex.getRequestHeaders();
        String auth = h.getFirst("Authorization");
        if (auth != null && auth.regionMatches(true, 0, "Bearer ", 0, 7) && Tokens.same(auth.substring(7).strip(), token)) {
            return null;
        }
        List<String> cookies = h.get("Cookie");
        if (cookies != null) {
            for (String line : cookies) {
                for (String c : line.split(";")) {
                    String kv = c.strip();
                    if (kv.startsWith(cookie + "=") && Tokens.same(kv.substring(cookie.length() + 1), token)) return null;
                }
            }
        }
        return new Denial(401, "this dashboard needs its access token: open the URL that `peekd web --new-token`"
                + " printed (it ends in ?token=...), or send Authorization: Bearer <token>");
    }

    boolean tokenMatches(String candidate) {
        return token != null && Tokens.same(candidate, token);
    }

    /** Null when a state-changing request comes from this dashboard's own page. */
    Denial checkWrite(HttpExchange ex) {
        Headers h = ex.getRequestHeaders();
        if (!"POST".equals(ex.getRequestMethod())) return new Denial(405, "changes are made with POST");
        String site = h.getFirst("Sec-Fetch-Site");
        if (site != null && !site.equals("same-origin") && !site.equals("none")) {
            return new Denial(403, "cross-site request refused (Sec-Fetch-Site: " + site + ")");
        }
        String origin = h.getFirst("Origin");
        if (origin != null) {
            String host = h.getFirst("Host");
            if (!origin.equalsIgnoreCase("http://" + host) && !origin.equalsIgnoreCase("https://" + host)) {
                return new Denial(403, "cross-site request refused (Origin " + origin + " is not this dashboard)");
            }
        }
        if (!Tokens.same(h.getFirst(CSRF_HEADER), csrf)) {
            return new Denial(403, "missing or wrong " + CSRF_HEADER + " header; reload the page");
        }
        String type = h.getFirst("Content-Type");
        if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
            return new Denial(415, "send the body as application/json");
        }
        return null;
    }

    /** Headers that keep the page out of frames and other origins, on every response. */
    static void secure(Headers h) {
        h.set("X-Content-Type-Options", "nosniff");
        h.set("X-Frame-Options", "DENY");
        h.set("Referrer-Policy", "no-referrer");
        h.set("Cross-Origin-Opener-Policy", "same-origin");
        h.set("Cross-Origin-Resource-Policy", "same-origin");
        // Scripts only from this server; inline styles because the chart library sets them.
        h.set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline';"
                + " img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'");
    }
}

package io.peekd.config;

import com.fasterxml.jackson.databind.JsonNode;
import io.peekd.config.ConfigException.Kind;
import java.net.IDN;
import java.net.InetAddress;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Turns one TOML value into a Java value, or says why it cannot.
 *
 * @param expected what a good value looks like, for messages: "expected {expected}, got ..."
 */
record Conv<T>(String expected, Fn<T> fn) {

    /** Where a value sits, so that integers can be checked against the second reading. */
    record Slot(List<String> path, int element, KeyIndex index) {
    }

    @FunctionalInterface
    interface Fn<T> {
        T apply(JsonNode node, Slot slot) throws Invalid;
    }

    /** A value that was rejected; the reader adds the key, the expectation and the value itself. */
    static final class Invalid extends Exception {
        final Kind kind;
        /** Why, beyond "expected X, got Y"; may be null. */
        final String reason;
        /** The value as the file really has it, when it differs from the node (see {@link KeyIndex}). */
        final String shown;

        Invalid(Kind kind, String reason, String shown) {
            super(reason, null, false, false);
            this.kind = kind;
            this.reason = reason;
            this.shown = shown;
        }

        Invalid(Kind kind, String reason) {
            this(kind, reason, null);
        }
    }

    static Conv<Boolean> bool() {
        return new Conv<>("true or false", (n, s) -> {
            if (!n.isBoolean()) {
                throw new Invalid(Kind.WRONG_TYPE, null);
            }
            return n.booleanValue();
        });
    }

    static Conv<Integer> intIn(int min, int max) {
        return new Conv<>("an integer " + min + ".." + max, (n, s) -> (int) integral(n, s, min, max));
    }

    static Conv<Long> longIn(long min, long max, String shownRange) {
        return new Conv<>("an integer " + shownRange, (n, s) -> integral(n, s, min, max));
    }

    static Conv<Integer> powerOfTwo(int min, int max) {
        return new Conv<>("a power of two " + min + ".." + max, (n, s) -> {
            int v = (int) integral(n, s, min, max);
            if (Integer.bitCount(v) != 1) {
                throw new Invalid(Kind.OUT_OF_RANGE, null);
            }
            return v;
        });
    }

    static Conv<String> string() {
        return text("a string", Function.identity());
    }

    /**
     * A string value run through {@code parse}, whose {@link IllegalArgumentException}
     * message becomes the reason shown to the user.
     */
    static <T> Conv<T> text(String expected, Function<String, T> parse) {
        return new Conv<>(expected, (n, s) -> {
            if (!n.isTextual()) {
                throw new Invalid(Kind.WRONG_TYPE, null);
            }
            try {
                return parse.apply(n.textValue());
            } catch (IllegalArgumentException e) {
                throw new Invalid(Kind.BAD_VALUE, e.getMessage());
            }
        });
    }

    /** Longest path a Unix socket address holds on Linux (sun_path, less its terminating NUL). */
    static final int SOCKET_PATH_BYTES = 107;

    /**
     * An absolute path short enough for the daemon's socket in it: the kernel refuses a longer
     * one when the daemon starts, with a message that names neither the key nor the limit.
     */
    static Conv<Path> runDir() {
        return text("an absolute path", t -> {
            Path p = absolute(t);
            Path socket = Config.Paths.socketIn(p);
            int n = socket.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
            if (n > SOCKET_PATH_BYTES) {
                throw new IllegalArgumentException("too long for the daemon's socket: " + socket
                        + " would be " + n + " bytes and Unix sockets take at most " + SOCKET_PATH_BYTES
                        + "; use a shorter directory such as /run/peekd");
            }
            return p;
        });
    }

    static Conv<Path> absolutePath() {
        return text("an absolute path", Conv::absolute);
    }

    private static Path absolute(String t) {
        if (t.isEmpty()) {
            throw new IllegalArgumentException("empty");
        }
        Path p;
        try {
            p = Path.of(t);
        } catch (InvalidPathException e) {
            throw new IllegalArgumentException(e.getReason());
        }
        if (!p.isAbsolute()) {
            throw new IllegalArgumentException("relative paths are ambiguous for a daemon; start it with /");
        }
        return p.normalize();
    }

    static Conv<Duration> duration() {
        return text("a duration such as " + Durations.EXAMPLES, Durations::parse);
    }

    static Conv<Cidr> cidr() {
        return text("an IP network such as 10.0.0.0/8 or fd00::/8", Cidr::parse);
    }

    static Conv<InetAddress> ipAddress() {
        return text("an IP address such as 127.0.0.1, ::1 or 0.0.0.0", t -> {
            try {
                return InetAddress.ofLiteral(t);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("host names are not accepted here, only addresses");
            }
        });
    }

    private static final Pattern LABEL = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?");

    /** A domain name, stored lower-case and in ASCII (xn--) form, so it compares with what DNS returns. */
    static Conv<String> domain() {
        return text("a domain name such as example.com", t -> {
            String d = t.strip();
            if (d.startsWith("*.")) {
                throw new IllegalArgumentException("a domain already covers its subdomains; write "
                        + d.substring(2) + " instead");
            }
            if (d.endsWith(".")) {
                d = d.substring(0, d.length() - 1);
            }
            try {
                d = IDN.toASCII(d, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("not a valid domain name");
            }
            if (d.isEmpty() || d.length() > 253) {
                throw new IllegalArgumentException("a domain name has 1 to 253 characters");
            }
            for (String label : d.split("\\.", -1)) {
                if (!LABEL.matcher(label).matches()) {
                    throw new IllegalArgumentException(label.isEmpty() ? "empty label between dots"
                            : "\"" + label + "\" is not a valid label");
                }
            }
            return d;
        });
    }

    static Conv<String> sha256() {
        return text("a sha256 of 64 hex digits", t -> {
            String h = t.strip();
            if (h.length() != 64) {
                throw new IllegalArgumentException(h.length() + " characters, not 64");
            }
            if (!h.chars().allMatch(HexFormat::isHexDigit)) {
                throw new IllegalArgumentException("not all hex digits");
            }
            return h.toLowerCase(Locale.ROOT);
        });
    }

    private static final Pattern USER = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\\$?");

    static Conv<String> userName() {
        return text("a user name such as root", t -> {
            if (!USER.matcher(t).matches()) {
                throw new IllegalArgumentException(t.isEmpty() ? "empty" : "not a valid user name");
            }
            return t;
        });
    }

    /** A session bus socket: empty (the user's /run/user/UID/bus), an absolute path, or unix:path=/path. */
    static Conv<String> busAddress() {
        return text("a bus socket path such as /run/user/1000/bus", t -> {
            if (t.isEmpty()) {
                return t;
            }
            String path = t;
            if (t.startsWith("unix:")) {
                path = null;
                for (String kv : t.substring(5).split(",")) {
                    if (kv.startsWith("path=")) {
                        path = kv.substring(5);
                    } else if (!kv.startsWith("guid=")) {
                        throw new IllegalArgumentException("only unix:path=... addresses are supported, not " + kv);
                    }
                }
                if (path == null) {
                    throw new IllegalArgumentException("a unix: address needs path=");
                }
            }
            if (!path.startsWith("/") || path.chars().anyMatch(Character::isISOControl)) {
                throw new IllegalArgumentException("the socket path must be absolute");
            }
            return t;
        });
    }

    /** An http or https URL with a host, without a trailing slash (base of an API). */
    static Conv<String> httpUrl() {
        return text("an http(s) URL such as https://www.virustotal.com", t -> {
            java.net.URI u;
            try {
                u = new java.net.URI(t);
            } catch (java.net.URISyntaxException e) {
                throw new IllegalArgumentException("not a URL: " + e.getReason());
            }
            if (u.getScheme() == null || !(u.getScheme().equals("http") || u.getScheme().equals("https"))
                    || u.getHost() == null) {
                throw new IllegalArgumentException("needs http:// or https:// and a host");
            }
            if (u.getQuery() != null || u.getFragment() != null) {
                throw new IllegalArgumentException("a base URL has no ?query or #fragment");
            }
            return t.endsWith("/") ? t.substring(0, t.length() - 1) : t;
        });
    }

    /** Any string without control characters or blanks, such as an API key pasted from a web page. */
    static Conv<String> token() {
        return text("a string without spaces", t -> {
            if (t.chars().anyMatch(c -> Character.isWhitespace(c) || Character.isISOControl(c))) {
                throw new IllegalArgumentException("it has spaces or control characters; was something pasted around it?");
            }
            return t;
        });
    }

    private static final Pattern SQL_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

    /** A database or table name that needs no quoting on PostgreSQL or MariaDB. */
    static Conv<String> sqlName() {
        return text("a name of letters, digits and _ (not starting with a digit, at most 63)", t -> {
            if (!SQL_NAME.matcher(t).matches()) {
                throw new IllegalArgumentException((String) null);
            }
            return t;
        });
    }

    /** A group name, or "" for none. */
    static Conv<String> groupName() {
        return text("a group name such as peekd, or \"\" for none", t -> {
            if (!t.isEmpty() && !USER.matcher(t).matches()) {
                throw new IllegalArgumentException("not a valid group name");
            }
            return t;
        });
    }

    /** One of a fixed set of strings, compared exactly. */
    static Conv<String> choice(String... values) {
        var shown = new StringBuilder("one of ");
        for (int i = 0; i < values.length; i++) {
            shown.append(i == 0 ? "" : i == values.length - 1 ? " or " : ", ").append('"').append(values[i]).append('"');
        }
        return text(shown.toString(), t -> {
            for (String v : values) {
                if (v.equals(t)) {
                    return v;
                }
            }
            throw new IllegalArgumentException((String) null);
        });
    }

    static <E extends Enum<E>> Conv<E> oneOf(Class<E> type) {
        E[] values = type.getEnumConstants();
        var names = new StringBuilder("one of ");
        for (int i = 0; i < values.length; i++) {
            names.append(i == 0 ? "" : i == values.length - 1 ? " or " : ", ")
                    .append(values[i].name().toLowerCase(Locale.ROOT));
        }
        return text(names.toString(), t -> {
            for (E e : values) {
                if (e.name().equalsIgnoreCase(t.strip())) {
                    return e;
                }
            }
            throw new IllegalArgumentException((String) null);
        });
    }

    private static long integral(JsonNode n, Slot s, long min, long max) throws Invalid {
        if (!n.isIntegralNumber()) {
            throw new Invalid(Kind.WRONG_TYPE, null);
        }
        Long truth = s.index().integer(s.path(), s.element());
        if (!n.canConvertToLong()) {
            throw new Invalid(Kind.OUT_OF_RANGE, null);
        }
        long v = n.longValue();
        String shown = null;
        if (truth != null && truth != v) {
            v = truth;
            shown = Long.toString(truth);
        }
        if (v < min || v > max) {
            throw new Invalid(Kind.OUT_OF_RANGE, null, shown);
        }
        return v;
    }
}

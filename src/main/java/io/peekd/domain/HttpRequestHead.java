package io.peekd.domain;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * Reads the method, Host header and proxy target from the first bytes of an HTTP/1.x
 * request. Strict where laxness would let one byte stream mean two destinations
 * (duplicate Host, obsolete folding, whitespace before the colon, bare CR), and
 * bounded in line length, head size and header count.
 */
public final class HttpRequestHead {

    static final int MAX_LINE = 8192;
    static final int MAX_HEAD = 65536;
    static final int MAX_HEADERS = 128;
    static final int MAX_METHOD = 32;

    private final RejectCounters counters = new RejectCounters();

    public RejectCounters counters() {
        return counters;
    }

    /** Parses the first bytes of a client-to-server flow. Never throws. */
    public ParseResult<HttpHead> parse(byte[] firstBytes) {
        return counters.record(guarded(firstBytes));
    }

    /** Reads the remaining bytes of {@code firstBytes} without moving its position. Never throws. */
    public ParseResult<HttpHead> parse(ByteBuffer firstBytes) {
        return parse(firstBytes == null ? null : DnsAnswers.copy(firstBytes));
    }

    private static ParseResult<HttpHead> guarded(byte[] in) {
        try {
            if (in == null || in.length == 0) return new ParseResult.Rejected<>(RejectReason.EMPTY, "no bytes");
            return new ParseResult.Parsed<>(new Reader(in).head());
        } catch (Malformed m) {
            return m.toResult();
        } catch (RuntimeException e) {
            return new ParseResult.Rejected<>(RejectReason.INTERNAL_ERROR, e.toString());
        }
    }

    private static final class Reader {
        private final byte[] in;
        private final int end;
        private int pos;

        Reader(byte[] in) {
            this.in = in;
            this.end = Math.min(in.length, MAX_HEAD);
        }

        HttpHead head() {
            String line = nextLine();
            if (line == null) {
                checkPartialRequestLine();
                throw new Malformed(RejectReason.TRUNCATED, "request line cut off after " + in.length + " bytes");
            }
            int sp1 = line.indexOf(' ');
            String method = sp1 < 0 ? line : line.substring(0, sp1);
            if (method.isEmpty() || !isToken(method)) throw new Malformed(RejectReason.NOT_HTTP, "no method token at start");
            if (method.length() > MAX_METHOD) throw new Malformed(RejectReason.BAD_METHOD, "method of " + method.length() + " characters");
            if (sp1 < 0) throw new Malformed(RejectReason.NOT_HTTP, "request line without spaces");
            int sp2 = line.indexOf(' ', sp1 + 1);
            if (sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0) {
                throw new Malformed(RejectReason.BAD_TARGET, "request line is not 'method SP target SP version'");
            }
            String target = line.substring(sp1 + 1, sp2);
            String version = line.substring(sp2 + 1);
            if (method.equals("PRI") && version.equals("HTTP/2.0")) throw new Malformed(RejectReason.NOT_HTTP, "HTTP/2 connection preface");
            int minor = switch (version) {
                case "HTTP/1.0" -> 0;
                case "HTTP/1.1" -> 1;
                default -> throw new Malformed(RejectReason.BAD_HTTP_VERSION, "version " + DomainNames.quote(version));
            };
            Optional<HostPort> authority = targetAuthority(method, target);

            HostPort host = null;
            boolean sawHost = false;
            int headers = 0;
            while (true) {
                String h = nextLine();
                if (h == null) {
                    if (pos >= MAX_HEAD) throw new Malformed(RejectReason.HEAD_TOO_LONG, "head longer than " + MAX_HEAD + " bytes");
                    return new HttpHead(method, target, minor, Optional.ofNullable(host), authority, false);
                }
                if (h.isEmpty()) return new HttpHead(method, target, minor, Optional.ofNullable(host), authority, true);
                if (++headers > MAX_HEADERS) throw new Malformed(RejectReason.TOO_MANY_HEADERS, "more than " + MAX_HEADERS + " header fields");
                char first = h.charAt(0);
                if (first == ' ' || first == '\t') throw new Malformed(RejectReason.OBSOLETE_LINE_FOLDING, "continuation line in header " + headers);
                int colon = h.indexOf(':');
                if (colon <= 0 || !isToken(h.substring(0, colon))) {
                    throw new Malformed(RejectReason.BAD_HEADER_NAME, "bad field name in header " + headers);
                }
                String value = h.substring(colon + 1).strip();
                for (int i = 0; i < value.length(); i++) {
                    char c = value.charAt(i);
                    if (c < 0x20 && c != '\t' || c == 0x7f) {
                        throw new Malformed(RejectReason.BAD_HEADER_VALUE, "control character in header " + headers);
                    }
                }
                if (h.substring(0, colon).equalsIgnoreCase("host")) {
                    if (sawHost) throw new Malformed(RejectReason.DUPLICATE_HOST, "two Host header fields");
                    sawHost = true;
                    if (!value.isEmpty()) {
                        if (!value.chars().allMatch(c -> c > 0x20 && c < 0x7f) || value.indexOf('@') >= 0) {
                            throw new Malformed(RejectReason.BAD_HOST, "Host " + DomainNames.quote(value));
                        }
                        host = HostPort.parse(value);
                    }
                }
            }
        }

        /**
         * The next line without its CRLF (a bare LF is tolerated, as RFC 9112 allows), or null
         * when the bytes end before the line does. Bytes are read as ISO-8859-1 so that each
         * byte stays one char and non-ASCII is visible to the checks.
         */
        private String nextLine() {
            int limit = Math.min(end, pos + MAX_LINE + 2);
            for (int i = pos; i < limit; i++) {
                byte b = in[i];
                if (b == '\n') {
                    int stop = i > pos && in[i - 1] == '\r' ? i - 1 : i;
                    String line = new String(in, pos, stop - pos, StandardCharsets.ISO_8859_1);
                    if (line.indexOf('\r') >= 0) throw new Malformed(RejectReason.BAD_LINE_ENDING, "bare CR");
                    if (line.length() > MAX_LINE) throw new Malformed(RejectReason.LINE_TOO_LONG, "line longer than " + MAX_LINE);
                    pos = i + 1;
                    return line;
                }
                if (b == 0) throw new Malformed(pos == 0 && i < MAX_METHOD ? RejectReason.NOT_HTTP : RejectReason.BAD_HEADER_VALUE, "NUL byte");
            }
            if (limit - pos >= MAX_LINE + 2) throw new Malformed(RejectReason.LINE_TOO_LONG, "line longer than " + MAX_LINE);
            pos = limit;
            return null;
        }

        /** Tells binary garbage apart from a request line that was merely cut short. */
        private void checkPartialRequestLine() {
            int n = Math.min(in.length, MAX_METHOD + 1);
            for (int i = 0; i < n; i++) {
                char c = (char) (in[i] & 0xff);
                if (c == ' ') {
                    if (i == 0) break;
                    return;
                }
                if (!isTokenChar(c)) break;
                if (i == n - 1 && n == in.length) return; // still inside a plausible method
            }
            throw new Malformed(RejectReason.NOT_HTTP, "no method token at start");
        }
    }

    private static Optional<HostPort> targetAuthority(String method, String target) {
        if (method.equals("CONNECT")) {
            HostPort hp = HostPort.parse(checkTargetChars(target));
            if (hp.port() == HostPort.NO_PORT) throw new Malformed(RejectReason.BAD_TARGET, "CONNECT target without port");
            return Optional.of(hp);
        }
        checkTargetChars(target);
        if (target.startsWith("/") || target.equals("*")) return Optional.empty();
        int sep = target.indexOf("://");
        if (sep > 0 && isScheme(target.substring(0, sep))) {
            String rest = target.substring(sep + 3);
            int stop = rest.length();
            for (char c : new char[] {'/', '?', '#'}) {
                int i = rest.indexOf(c);
                if (i >= 0) stop = Math.min(stop, i);
            }
            String authority = rest.substring(0, stop);
            authority = authority.substring(authority.lastIndexOf('@') + 1); // drop deprecated userinfo
            return Optional.of(HostPort.parse(authority));
        }
        throw new Malformed(RejectReason.BAD_TARGET, "target " + DomainNames.quote(target));
    }

    private static String checkTargetChars(String target) {
        if (target.isEmpty()) throw new Malformed(RejectReason.BAD_TARGET, "empty target");
        for (int i = 0; i < target.length(); i++) {
            char c = target.charAt(i);
            if (c <= 0x20 || c >= 0x7f) throw new Malformed(RejectReason.BAD_TARGET, "non-printable or non-ASCII byte in target");
        }
        return target;
    }

    private static boolean isScheme(String s) {
        if (s.isEmpty() || !Character.isLetter(s.charAt(0)) || s.charAt(0) > 0x7f) return false;
        return s.chars().allMatch(c -> c < 0x80 && (Character.isLetterOrDigit(c) || c == '+' || c == '-' || c == '.'));
    }

    private static boolean isToken(String s) {
        for (int i = 0; i < s.length(); i++) if (!isTokenChar(s.charAt(i))) return false;
        return !s.isEmpty();
    }

    /** RFC 9110 tchar: ASCII only, so a non-ASCII header name is refused. */
    private static boolean isTokenChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || "!#$%&'*+-.^_`|~".indexOf(c) >= 0;
    }
}

package io.peekd.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class HttpRequestHeadTest {

    private final HttpRequestHead parser = new HttpRequestHead();

    private ParseResult<HttpHead> parse(String s) {
        return parser.parse(s.getBytes(StandardCharsets.ISO_8859_1));
    }

    private HttpHead parsed(String s) {
        ParseResult<HttpHead> r = parse(s);
        assertThat(r).isInstanceOf(ParseResult.Parsed.class);
        return r.parsed().orElseThrow();
    }

    private void rejected(String s, RejectReason reason) {
        assertThat(parse(s)).isInstanceOfSatisfying(ParseResult.Rejected.class,
                r -> assertThat(r.reason()).as(r.detail()).isEqualTo(reason));
    }

    @Test
    void plainGetWithHost() {
        HttpHead h = parsed("GET /index.html?q=1 HTTP/1.1\r\nHost: WWW.Example.com\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n");
        assertThat(h.method()).isEqualTo("GET");
        assertThat(h.target()).isEqualTo("/index.html?q=1");
        assertThat(h.minorVersion()).isEqualTo(1);
        assertThat(h.host()).contains(new HostPort("www.example.com", -1, HostPort.Kind.NAME));
        assertThat(h.targetAuthority()).isEmpty();
        assertThat(h.domain()).contains("www.example.com");
        assertThat(h.complete()).isTrue();
    }

    @Test
    void hostPortsAndLiterals() {
        assertThat(parsed("GET / HTTP/1.1\r\nhost: example.com:8080\r\n\r\n").host())
                .contains(new HostPort("example.com", 8080, HostPort.Kind.NAME));
        assertThat(parsed("GET / HTTP/1.1\r\nHost: [2001:DB8::1]:443\r\n\r\n").host())
                .contains(new HostPort("2001:db8::1", 443, HostPort.Kind.IPV6));
        assertThat(parsed("GET / HTTP/1.1\r\nHost: [::1]\r\n\r\n").host())
                .contains(new HostPort("::1", -1, HostPort.Kind.IPV6));
        HttpHead v4 = parsed("GET / HTTP/1.1\r\nHost: 192.0.2.7:80\r\n\r\n");
        assertThat(v4.host()).contains(new HostPort("192.0.2.7", 80, HostPort.Kind.IPV4));
        assertThat(v4.domain()).isEmpty();
        assertThat(parsed("GET / HTTP/1.1\nHost: example.com:\n\n").host())
                .contains(new HostPort("example.com", -1, HostPort.Kind.NAME));
    }

    @Test
    void connectTargetIsTheDestination() {
        HttpHead h = parsed("CONNECT api.example.org:443 HTTP/1.1\r\nHost: api.example.org:443\r\nProxy-Authorization: x\r\n\r\n");
        assertThat(h.isConnect()).isTrue();
        assertThat(h.targetAuthority()).contains(new HostPort("api.example.org", 443, HostPort.Kind.NAME));
        assertThat(h.domain()).contains("api.example.org");
        assertThat(parsed("CONNECT [2001:db8::2]:8443 HTTP/1.1\r\n\r\n").destination())
                .contains(new HostPort("2001:db8::2", 8443, HostPort.Kind.IPV6));
        rejected("CONNECT api.example.org HTTP/1.1\r\n\r\n", RejectReason.BAD_TARGET);
        rejected("CONNECT /path HTTP/1.1\r\n\r\n", RejectReason.INVALID_NAME);
    }

    @Test
    void absoluteFormProxyRequestWinsOverHost() {
        HttpHead h = parsed("GET http://user:pw@Origin.example:8000/a?b#c HTTP/1.1\r\nHost: proxy.local\r\n\r\n");
        assertThat(h.targetAuthority()).contains(new HostPort("origin.example", 8000, HostPort.Kind.NAME));
        assertThat(h.host()).contains(new HostPort("proxy.local", -1, HostPort.Kind.NAME));
        assertThat(h.domain()).contains("origin.example");
    }

    @Test
    void http10WithoutHostAndOptionsStar() {
        HttpHead h = parsed("GET / HTTP/1.0\r\n\r\n");
        assertThat(h.minorVersion()).isZero();
        assertThat(h.host()).isEmpty();
        assertThat(h.domain()).isEmpty();
        assertThat(parsed("OPTIONS * HTTP/1.1\r\nHost: a.example\r\n\r\n").domain()).contains("a.example");
    }

    @Test
    void truncatedHeadKeepsWhatItHas() {
        HttpHead h = parsed("POST /upload HTTP/1.1\r\nHost: up.example.net\r\nContent-Le");
        assertThat(h.complete()).isFalse();
        assertThat(h.domain()).contains("up.example.net");
        assertThat(parsed("GET / HTTP/1.1\r\n").complete()).isFalse();
        rejected("GET /partial", RejectReason.TRUNCATED);
        rejected("GE", RejectReason.TRUNCATED);
        rejected("GET", RejectReason.TRUNCATED);
    }

    @Test
    void byteBufferPositionIsLeftAlone() {
        ByteBuffer b = ByteBuffer.wrap("xxGET / HTTP/1.1\r\nHost: b.example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        b.position(2);
        assertThat(parser.parse(b).parsed().flatMap(HttpHead::domain)).contains("b.example");
        assertThat(b.position()).isEqualTo(2);
    }

    static Stream<Arguments> garbage() {
        return Stream.of(
                Arguments.of("\u0016\u0003\u0001\u0002\u0000\u0001", RejectReason.NOT_HTTP),
                Arguments.of("SSH-2.0-OpenSSH_9.2\r\n", RejectReason.NOT_HTTP),
                Arguments.of("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", RejectReason.NOT_HTTP),
                Arguments.of(" GET / HTTP/1.1\r\n\r\n", RejectReason.NOT_HTTP),
                Arguments.of("GET / HTTP/2.0\r\n\r\n", RejectReason.BAD_HTTP_VERSION),
                Arguments.of("GET / HTTP/1.1 extra\r\n\r\n", RejectReason.BAD_TARGET),
                Arguments.of("GET  / HTTP/1.1\r\n\r\n", RejectReason.BAD_TARGET),
                Arguments.of("GET relative HTTP/1.1\r\n\r\n", RejectReason.BAD_TARGET),
                Arguments.of("GET /\u00e9 HTTP/1.1\r\n\r\n", RejectReason.BAD_TARGET),
                Arguments.of("GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n", RejectReason.DUPLICATE_HOST),
                Arguments.of("GET / HTTP/1.1\r\nHost : a.example\r\n\r\n", RejectReason.BAD_HEADER_NAME),
                Arguments.of("GET / HTTP/1.1\r\nH\u00f6st: a.example\r\n\r\n", RejectReason.BAD_HEADER_NAME),
                Arguments.of("GET / HTTP/1.1\r\nNoColon\r\n\r\n", RejectReason.BAD_HEADER_NAME),
                Arguments.of("GET / HTTP/1.1\r\nX-A: b\u0001c\r\n\r\n", RejectReason.BAD_HEADER_VALUE),
                Arguments.of("GET / HTTP/1.1\r\nX-A: b\r\n c\r\n\r\n", RejectReason.OBSOLETE_LINE_FOLDING),
                Arguments.of("GET / HTTP/1.1\rHost: a.example\r\n\r\n", RejectReason.BAD_LINE_ENDING),
                Arguments.of("GET / HTTP/1.1\r\nHost: user@a.example\r\n\r\n", RejectReason.BAD_HOST),
                Arguments.of("GET / HTTP/1.1\r\nHost: a.example:99999\r\n\r\n", RejectReason.BAD_HOST),
                Arguments.of("GET / HTTP/1.1\r\nHost: a.example:8x\r\n\r\n", RejectReason.BAD_HOST),
                Arguments.of("GET / HTTP/1.1\r\nHost: 2001:db8::1\r\n\r\n", RejectReason.BAD_HOST),
                Arguments.of("GET / HTTP/1.1\r\nHost: [fe80::1%eth0]\r\n\r\n", RejectReason.BAD_HOST),
                Arguments.of("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", RejectReason.BAD_HOST),
                Arguments.of("GET / HTTP/1.1\r\nHost: 010.0.0.1\r\n\r\n", RejectReason.BAD_HOST),
                Arguments.of("GET / HTTP/1.1\r\nHost: 1.2.3\r\n\r\n", RejectReason.BAD_HOST),
                Arguments.of("GET / HTTP/1.1\r\nHost: a b.example\r\n\r\n", RejectReason.BAD_HOST),
                Arguments.of("GET / HTTP/1.1\r\nHost: bad_-.\u00ff\r\n\r\n", RejectReason.BAD_HOST),
                Arguments.of("GET / HTTP/1.1\r\nHost: -bad.example\r\n\r\n", RejectReason.INVALID_NAME));
    }

    @ParameterizedTest
    @MethodSource("garbage")
    void rejectsGarbage(String head, RejectReason reason) {
        rejected(head, reason);
    }

    @Test
    void overlongLinesHeadsAndHeaderCounts() {
        rejected("GET /" + "a".repeat(HttpRequestHead.MAX_LINE) + " HTTP/1.1\r\n\r\n", RejectReason.LINE_TOO_LONG);
        rejected("GET / HTTP/1.1\r\nX: " + "v".repeat(HttpRequestHead.MAX_LINE + 10), RejectReason.LINE_TOO_LONG);
        rejected("GET" + "A".repeat(40) + " / HTTP/1.1\r\n\r\n", RejectReason.BAD_METHOD);
        rejected("GET / HTTP/1.1\r\n" + "X-Y: z\r\n".repeat(HttpRequestHead.MAX_HEADERS + 1) + "\r\n", RejectReason.TOO_MANY_HEADERS);
        String big = "X-Big: " + "v".repeat(8000) + "\r\n";
        rejected("GET / HTTP/1.1\r\n" + big.repeat(9) + "\r\n", RejectReason.HEAD_TOO_LONG);
        // exactly at the line limit is fine
        assertThat(parse("GET /" + "a".repeat(HttpRequestHead.MAX_LINE - 15) + " HTTP/1.1\r\n\r\n").isParsed()).isTrue();
    }

    @Test
    void emptyAndNullInput() {
        rejected("", RejectReason.EMPTY);
        assertThat(parser.parse((byte[]) null)).isInstanceOf(ParseResult.Rejected.class);
    }

    @Test
    void countersSeeEveryCall() {
        HttpRequestHead p = new HttpRequestHead();
        p.parse("GET / HTTP/1.1\r\nHost: a.example\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        p.parse("\u0000\u0001".getBytes(StandardCharsets.ISO_8859_1));
        p.parse("GET / HTTP/9\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        p.parse("GET / HTTP/9\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        assertThat(p.counters().parsed()).isEqualTo(1);
        assertThat(p.counters().rejected(RejectReason.BAD_HTTP_VERSION)).isEqualTo(2);
        assertThat(p.counters().rejected(RejectReason.NOT_HTTP)).isEqualTo(1);
        assertThat(p.counters().snapshot()).containsOnlyKeys(RejectReason.BAD_HTTP_VERSION, RejectReason.NOT_HTTP);
        assertThat(p.counters().rejectedTotal()).isEqualTo(3);
    }
}

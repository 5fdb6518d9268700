package io.peekd.domain;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Type;

/**
 * The seed corpus in {@code src/test/resources/domain-corpus/}. File names say which parser a
 * seed is for and what it should give: {@code <dns|dnstcp|tls|http|quic>-<ok|rej>-<what>.bin}.
 * {@link #main} regenerates the library-built seeds; hand-made hostile ones are built here too,
 * so the corpus can always be rebuilt from this file.
 */
final class Corpus {

    record Seed(String name, String parser, boolean ok, byte[] bytes) {
    }

    static final Path DIR = Path.of("src/test/resources/domain-corpus");

    private Corpus() {
    }

    static List<Seed> load() {
        try (Stream<Path> files = Files.list(DIR)) {
            List<Seed> out = new ArrayList<>();
            for (Path p : files.sorted().toList()) {
                String n = p.getFileName().toString();
                String[] parts = n.split("-", 3);
                if (parts.length < 3 || !n.endsWith(".bin")) continue;
                out.add(new Seed(n, parts[0], parts[1].equals("ok"), Files.readAllBytes(p)));
            }
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static List<Seed> forParser(String parser) {
        return load().stream().filter(s -> s.parser().equals(parser)).toList();
    }

    /** Rewrites the corpus: {@code mvn test-compile} then run this class on the test classpath. */
    public static void main(String[] args) throws Exception {
        Files.createDirectories(DIR);
        // DNS, built with dnsjava's Message API
        write("dns-ok-cname-chain", DnsAnswersTest.response("www.example.com.", Type.A,
                DnsAnswersTest.cname("www.example.com.", "edge.cdn.example.net."),
                DnsAnswersTest.a("edge.cdn.example.net.", 20, "192.0.2.10"),
                DnsAnswersTest.a("edge.cdn.example.net.", 20, "192.0.2.11")).toWire());
        write("dns-ok-aaaa", DnsAnswersTest.response("v6.example.org.", Type.AAAA,
                DnsAnswersTest.aaaa("v6.example.org.", 3600, "2001:db8::53")).toWire());
        Message nx = DnsAnswersTest.response("nope.example.", Type.A);
        nx.getHeader().setRcode(Rcode.NXDOMAIN);
        write("dns-rej-nxdomain", nx.toWire());
        Message tc = DnsAnswersTest.response("tc.example.", Type.A, DnsAnswersTest.a("tc.example.", 5, "192.0.2.1"));
        tc.getHeader().setFlag(Flags.TC);
        write("dns-ok-tc-flag", tc.toWire());
        String q = DnsAnswersTest.Q_EXAMPLE_COM;
        write("dns-rej-pointer-loop", DnsAnswersTest.raw(1, 1, q + "0161 c01d 0001 0001 0000003c 0004 c0000201"));
        write("dns-rej-pointer-self", DnsAnswersTest.raw(1, 1, q + "c01d 0001 0001 0000003c 0004 c0000201"));
        write("dns-rej-zero-rdata", DnsAnswersTest.raw(1, 1, q + "c00c 0001 0001 0000003c 0000 c0000201"));
        write("dns-ok-huge-count", DnsAnswersTest.raw(1, 0xffff, q + "c00c 0001 0001 0000003c 0004 c0000201"));
        byte[] one = DnsAnswersTest.response("one.example.", Type.A, DnsAnswersTest.a("one.example.", 1, "192.0.2.1")).toWire();
        byte[] two = DnsAnswersTest.response("two.example.", Type.A, DnsAnswersTest.a("two.example.", 2, "192.0.2.2")).toWire();
        write("dnstcp-ok-two-messages", TlsBytes.concat(TlsBytes.u16(one.length), one, TlsBytes.u16(two.length), two));

        // TLS, from the JDK's own SSLEngine, and hand-built variants
        write("tls-ok-jdk-sni-alpn", TlsBytes.jdkClientHello("www.example.com", List.of("h2", "http/1.1")));
        write("tls-ok-jdk-no-sni", TlsBytes.jdkClientHello(null, List.of()));
        write("tls-ok-jdk-tls12", TlsBytes.jdkClientHello("legacy.example.org", List.of("http/1.1"), "TLSv1.2"));
        write("tls-ok-fragmented", TlsBytes.fragment(TlsBytes.handshakeOf(TlsBytes.jdkClientHello("frag.example", List.of())), 64));
        write("tls-ok-ech", TlsBytes.hello(TlsBytes.sniExt("public.ech.example"), TlsBytes.ext(0xfe0d, new byte[] {0, 0, 1, 0, 1})));
        write("tls-rej-duplicate-sni", TlsBytes.hello(TlsBytes.sniExt("a.example"), TlsBytes.sniExt("b.example")));
        byte[] lie = TlsBytes.hello(TlsBytes.sniExt("liar.example"));
        lie[5 + 4 + 2 + 32 + 1 + 4 + 2 + 2 + 2] = 0x7f; // server_name extension length
        write("tls-rej-ext-length-lie", lie);

        // HTTP heads as text
        http("http-ok-get", "GET /index.html HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: t/1\r\nAccept: */*\r\n\r\n");
        http("http-ok-connect", "CONNECT api.example.org:443 HTTP/1.1\r\nHost: api.example.org:443\r\n\r\n");
        http("http-ok-proxy-absolute", "GET http://origin.example:8000/a?b HTTP/1.1\r\nHost: proxy.local\r\n\r\n");
        http("http-ok-ipv6-host", "HEAD / HTTP/1.0\r\nHost: [2001:db8::1]:8080\r\n\r\n");
        http("http-rej-duplicate-host", "GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n");

        QuicInitialTest.writeCorpus();
    }

    private static void http(String name, String head) throws IOException {
        write(name, head.getBytes(StandardCharsets.ISO_8859_1));
    }

    static void write(String name, byte[] bytes) throws IOException {
        Files.write(DIR.resolve(name + ".bin"), bytes);
    }
}

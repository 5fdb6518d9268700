package io.peekd.domain;

import static io.peekd.domain.TlsBytes.*;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class TlsClientHelloTest {

    private final TlsClientHello parser = new TlsClientHello();

    private ClientHello parsed(byte[] b) {
        ParseResult<ClientHello> r = parser.parse(b);
        assertThat(r).as("%s", r).isInstanceOf(ParseResult.Parsed.class);
        return r.parsed().orElseThrow();
    }

    private void rejected(byte[] b, RejectReason reason) {
        assertThat(parser.parse(b)).isInstanceOfSatisfying(ParseResult.Rejected.class,
                r -> assertThat(r.reason()).as(r.detail()).isEqualTo(reason));
    }

    @Test
    void jdkClientHelloWithSniAndAlpn() {
        byte[] hello = jdkClientHello("api.Example.com", List.of("h2", "http/1.1"));
        ClientHello h = parsed(hello);
        assertThat(h.serverName()).contains("api.example.com");
        assertThat(h.alpn()).containsExactly("h2", "http/1.1");
        assertThat(h.status()).isEqualTo(ClientHello.SniStatus.PLAIN);
        assertThat(h.complete()).isTrue();
    }

    @Test
    void jdkClientHelloWithoutSni() {
        ClientHello h = parsed(jdkClientHello(null, List.of()));
        assertThat(h.serverName()).isEmpty();
        assertThat(h.alpn()).isEmpty();
        assertThat(h.status()).isEqualTo(ClientHello.SniStatus.ABSENT);
        assertThat(h.complete()).isTrue();
    }

    @Test
    void jdkTls12OnlyHello() {
        ClientHello h = parsed(jdkClientHello("legacy.example.org", List.of("http/1.1"), "TLSv1.2"));
        assertThat(h.serverName()).contains("legacy.example.org");
        assertThat(h.alpn()).containsExactly("http/1.1");
    }

    @Test
    void byteBufferSliceAndPosition() {
        byte[] hello = jdkClientHello("buf.example", List.of());
        ByteBuffer b = ByteBuffer.allocate(hello.length + 10);
        b.position(10);
        b.put(hello).position(10);
        assertThat(parser.parse(b).parsed().flatMap(ClientHello::serverName)).contains("buf.example");
        assertThat(b.position()).isEqualTo(10);
    }

    @Test
    void helloSplitAcrossManyRecords() {
        byte[] hs = handshakeOf(jdkClientHello("split.example.net", List.of("h2")));
        for (int size : new int[] {1, 7, 100, 500}) {
            ClientHello h = parsed(fragment(hs, size));
            assertThat(h.serverName()).as("fragment %d", size).contains("split.example.net");
            assertThat(h.alpn()).containsExactly("h2");
            assertThat(h.complete()).isTrue();
        }
    }

    @Test
    void everyCutOfARealHello() {
        String host = "cut.example.com";
        byte[] hello = jdkClientHello(host, List.of("h2"));
        // The server_name extension ends right after the host bytes.
        int sniEnd = indexOf(hello, host.getBytes(StandardCharsets.US_ASCII)) + host.length();
        assertThat(sniEnd).isGreaterThan(host.length());
        for (int n = 1; n < hello.length; n++) {
            ParseResult<ClientHello> r = parser.parse(Arrays.copyOf(hello, n));
            if (n >= sniEnd) {
                assertThat(r).as("cut at %d", n).isInstanceOf(ParseResult.Parsed.class);
                ClientHello h = r.parsed().orElseThrow();
                assertThat(h.serverName()).contains(host);
                assertThat(h.complete()).isFalse();
            } else {
                assertThat(r).as("cut at %d", n).isInstanceOfSatisfying(ParseResult.Rejected.class,
                        rej -> assertThat(rej.reason()).as("cut: %s", rej.detail()).isEqualTo(RejectReason.TRUNCATED));
            }
        }
        assertThat(parsed(hello).complete()).isTrue();
    }

    @Test
    void echMarksEncrypted() {
        byte[] echPayload = new byte[] {0, 0, 1, 0, 1, 7, 0, 0, 0, 0}; // outer, arbitrary contents
        ClientHello h = parsed(hello(sniExt("public.ech.example"), ext(0xfe0d, echPayload), alpnExt("h2")));
        assertThat(h.status()).isEqualTo(ClientHello.SniStatus.ENCRYPTED);
        assertThat(h.serverName()).contains("public.ech.example");
        assertThat(h.alpn()).containsExactly("h2");
        ClientHello noSni = parsed(hello(ext(0xfe0d, echPayload)));
        assertThat(noSni.status()).isEqualTo(ClientHello.SniStatus.ENCRYPTED);
        assertThat(noSni.serverName()).isEmpty();
        assertThat(parsed(hello(ext(0xffce, new byte[4]), sniExt("old.esni.example"))).status())
                .isEqualTo(ClientHello.SniStatus.ENCRYPTED);
    }

    @Test
    void echAppendedToARealJdkHello() {
        byte[] hs = handshakeOf(jdkClientHello("front.example", List.of()));
        // Append ECH as the last extension and fix the three enclosing lengths.
        byte[] ech = ext(0xfe0d, new byte[] {0, 0, 1, 0, 1});
        int extLenAt = extensionsLengthOffset(hs);
        byte[] grown = concat(hs, ech);
        int extLen = ((grown[extLenAt] & 0xff) << 8 | grown[extLenAt + 1] & 0xff) + ech.length;
        grown[extLenAt] = (byte) (extLen >> 8);
        grown[extLenAt + 1] = (byte) extLen;
        int bodyLen = grown.length - 4;
        grown[1] = (byte) (bodyLen >> 16);
        grown[2] = (byte) (bodyLen >> 8);
        grown[3] = (byte) bodyLen;
        ClientHello h = parsed(fragment(grown, 16384));
        assertThat(h.status()).isEqualTo(ClientHello.SniStatus.ENCRYPTED);
        assertThat(h.serverName()).contains("front.example");
    }

    /** Offset of the extensions length in a ClientHello handshake message (walked with the spec's layout). */
    private static int extensionsLengthOffset(byte[] hs) {
        int p = 4 + 2 + 32;
        p += 1 + (hs[p] & 0xff);
        p += 2 + ((hs[p] & 0xff) << 8 | hs[p + 1] & 0xff);
        p += 1 + (hs[p] & 0xff);
        return p;
    }

    @Test
    void unprintableAlpnAndUnknownNameTypes() {
        ClientHello h = parsed(hello(ext(16, new byte[] {0, 4, 3, 0x0a, 0x0a, 0x00})));
        assertThat(h.alpn()).containsExactly("0x0a0a00");
        byte[] entries = concat(new byte[] {5}, u16(3), "abc".getBytes(StandardCharsets.US_ASCII),
                new byte[] {0}, u16(9), "x.example".getBytes(StandardCharsets.US_ASCII));
        assertThat(parsed(hello(ext(0, concat(u16(entries.length), entries)))).serverName()).contains("x.example");
    }

    @Test
    void helloWithoutExtensions() {
        ClientHello h = parsed(helloWithBody(helloPrefix()));
        assertThat(h.status()).isEqualTo(ClientHello.SniStatus.ABSENT);
        assertThat(h.complete()).isTrue();
    }

    // ---- hostile ----

    @Test
    void notTlsAtAll() {
        rejected("GET / HTTP/1.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII), RejectReason.NOT_HANDSHAKE);
        rejected(new byte[] {23, 3, 3, 0, 5, 1, 2, 3, 4, 5}, RejectReason.NOT_HANDSHAKE);
        rejected(new byte[] {22, 2, 0, 0, 5, 1, 0, 0, 1, 0}, RejectReason.BAD_RECORD_VERSION);
        rejected(new byte[] {22, 3, 9, 0, 5, 1, 0, 0, 1, 0}, RejectReason.BAD_RECORD_VERSION);
        rejected(new byte[] {22, 3, 1, 0, 4, 2, 0, 0, 0}, RejectReason.NOT_CLIENT_HELLO);
        rejected(new byte[0], RejectReason.EMPTY);
        rejected(new byte[] {22}, RejectReason.TRUNCATED);
        rejected(new byte[] {22, 3, 1, 0, 0}, RejectReason.LENGTH_MISMATCH);
        assertThat(parser.parse((byte[]) null)).isInstanceOf(ParseResult.Rejected.class);
    }

    @Test
    void hugeLengths() {
        rejected(new byte[] {22, 3, 1, (byte) 0xff, (byte) 0xff, 1, 0, 0, 1}, RejectReason.RECORD_TOO_LONG);
        // handshake length 16 MiB: no ClientHello can be that long
        byte[] h = hello(sniExt("a.example"));
        h[6] = (byte) 0xff;
        h[7] = (byte) 0xff;
        h[8] = (byte) 0xff;
        rejected(h, RejectReason.LENGTH_MISMATCH);
        // session id of 255 bytes
        byte[] body = concat(new byte[] {3, 3}, new byte[32], new byte[] {(byte) 0xff});
        rejected(helloWithBody(body), RejectReason.LENGTH_MISMATCH);
    }

    @Test
    void extensionLengthsThatLie() {
        byte[] good = hello(sniExt("liar.example"), alpnExt("h2"));
        assertThat(parsed(good).serverName()).contains("liar.example");
        int extLenAt = 5 + extensionsLengthOffset(handshakeOf(good));

        // extensions block claims more than the hello holds
        byte[] a = good.clone();
        a[extLenAt] = (byte) 0x7f;
        rejected(a, RejectReason.LENGTH_MISMATCH);
        // extensions block claims less: stray bytes after it
        byte[] b = good.clone();
        b[extLenAt + 1] -= 4;
        rejected(b, RejectReason.LENGTH_MISMATCH);
        // server_name extension length larger than the extensions block
        byte[] c = good.clone();
        c[extLenAt + 2 + 2] = (byte) 0x40;
        rejected(c, RejectReason.LENGTH_MISMATCH);
        // server_name_list length larger than its extension
        byte[] d = good.clone();
        d[extLenAt + 2 + 4] = 0x10;
        rejected(d, RejectReason.LENGTH_MISMATCH);
        // host_name length larger than the list
        byte[] e = good.clone();
        e[extLenAt + 2 + 7] = 0x10;
        rejected(e, RejectReason.LENGTH_MISMATCH);
        // server_name_list shorter than its extension: stray bytes inside server_name
        rejected(hello(ext(0, concat(u16(12), new byte[] {0}, u16(9), "x.example".getBytes(StandardCharsets.US_ASCII), new byte[] {0}))),
                RejectReason.LENGTH_MISMATCH);
    }

    @Test
    void badExtensionContents() {
        rejected(hello(sniExt("a.example"), sniExt("b.example")), RejectReason.DUPLICATE_EXTENSION);
        rejected(hello(ext(0, new byte[0])), RejectReason.LENGTH_MISMATCH);
        rejected(hello(ext(0, u16(0))), RejectReason.BAD_EXTENSION);
        rejected(hello(sniExt("bad name.example")), RejectReason.INVALID_NAME);
        rejected(hello(sniExt("caf\u00e9.example")), RejectReason.INVALID_NAME);
        rejected(hello(sniExt("192.0.2.1")), RejectReason.INVALID_NAME);
        rejected(hello(sniExt("")), RejectReason.INVALID_NAME);
        rejected(hello(ext(16, new byte[] {0, 1, 0})), RejectReason.BAD_EXTENSION);
        rejected(hello(ext(16, new byte[] {0, 0})), RejectReason.BAD_EXTENSION);
        byte[] twoNames = concat(new byte[] {0}, u16(3), "a.b".getBytes(StandardCharsets.US_ASCII), new byte[] {0}, u16(3), "c.d".getBytes(StandardCharsets.US_ASCII));
        rejected(hello(ext(0, concat(u16(twoNames.length), twoNames))), RejectReason.BAD_EXTENSION);
    }

    @Test
    void recordOfAnotherTypeInTheMiddle() {
        byte[] hs = handshakeOf(jdkClientHello("mid.example", List.of()));
        byte[] first = fragment(Arrays.copyOf(hs, 50), 50);
        byte[] rest = fragment(Arrays.copyOfRange(hs, 50, hs.length), 16384);
        rest[0] = 23;
        rejected(concat(first, rest), RejectReason.LENGTH_MISMATCH);
    }

    @Test
    void countersAddUp() {
        TlsClientHello p = new TlsClientHello();
        p.parse(jdkClientHello("c.example", List.of()));
        p.parse(new byte[] {1, 2, 3});
        p.parse(new byte[] {22});
        assertThat(p.counters().parsed()).isEqualTo(1);
        assertThat(p.counters().snapshot()).isEqualTo(java.util.Map.of(RejectReason.NOT_HANDSHAKE, 1L, RejectReason.TRUNCATED, 1L));
        assertThat(Optional.of(p.counters().rejectedTotal())).contains(2L);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}

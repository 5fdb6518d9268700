package io.peekd.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class QuicInitialTest {

    private static final HexFormat HEX = HexFormat.of();
    static final byte[] RFC_DCID = HEX.parseHex("8394c8f03e515708");

    private final QuicInitial parser = new QuicInitial();

    // ---- test-side packet sealing (the inverse of the parser, checked against RFC 9001 A.1/A.2) ----

    static byte[] crypto(long offset, byte[] data) {
        return TlsBytes.concat(new byte[] {6}, varint(offset), varint(data.length), data);
    }

    static byte[] varint(long v) {
        if (v < 64) return new byte[] {(byte) v};
        if (v < 16384) return new byte[] {(byte) (0x40 | v >> 8), (byte) v};
        return new byte[] {(byte) (0x80 | v >> 24), (byte) (v >> 16), (byte) (v >> 8), (byte) v};
    }

    /** A protected client Initial with packet number {@code pn} (4 bytes), padded to {@code minSize}. */
    static byte[] seal(byte[] dcid, long pn, byte[] frames, int minSize, int version) {
        try {
            int headerLen = 1 + 4 + 1 + dcid.length + 1 + 0 + 1 + 2 + 4;
            int pad = Math.max(0, minSize - headerLen - frames.length - 16);
            byte[] plain = TlsBytes.concat(frames, new byte[pad]);
            int length = 4 + plain.length + 16;
            byte[] header = TlsBytes.concat(new byte[] {(byte) 0xc3, (byte) (version >> 24), (byte) (version >> 16), (byte) (version >> 8), (byte) version},
                    new byte[] {(byte) dcid.length}, dcid, new byte[] {0}, new byte[] {0},
                    new byte[] {(byte) (0x40 | length >> 8), (byte) length},
                    new byte[] {(byte) (pn >> 24), (byte) (pn >> 16), (byte) (pn >> 8), (byte) pn});
            QuicInitial.Keys k = QuicInitial.Keys.client(dcid);
            Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
            gcm.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(k.key(), "AES"), new GCMParameterSpec(128, k.nonce(pn)));
            gcm.updateAAD(header);
            byte[] packet = TlsBytes.concat(header, gcm.doFinal(plain));
            int pnOffset = header.length - 4;
            byte[] mask = k.headerMask(Arrays.copyOfRange(packet, pnOffset + 4, pnOffset + 20));
            packet[0] ^= (byte) (mask[0] & 0x0f);
            for (int i = 0; i < 4; i++) packet[pnOffset + i] ^= mask[1 + i];
            return packet;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    static byte[] seal(byte[] frames) {
        return seal(RFC_DCID, 2, frames, 1200, QuicInitial.VERSION_1);
    }

    static byte[] jdkHello() {
        return TlsBytes.handshakeOf(TlsBytes.jdkClientHello("quic.example.com", List.of("h3"), "TLSv1.3"));
    }

    private ClientHello parsed(List<byte[]> datagrams) {
        ParseResult<ClientHello> r = parser.parse(datagrams);
        assertThat(r).as("%s", r).isInstanceOf(ParseResult.Parsed.class);
        return r.parsed().orElseThrow();
    }

    private void rejected(byte[] datagram, RejectReason reason) {
        assertThat(parser.parse(datagram)).isInstanceOfSatisfying(ParseResult.Rejected.class,
                r -> assertThat(r.reason()).as(r.detail()).isEqualTo(reason));
    }

    // ---- RFC 9001 Appendix A vectors ----

    @Test
    void initialKeysMatchRfc9001AppendixA1() {
        QuicInitial.Keys k = QuicInitial.Keys.client(RFC_DCID);
        assertThat(HEX.formatHex(k.key())).isEqualTo("1f369613dd76d5467730efcbe3b1a22d");
        assertThat(HEX.formatHex(k.iv())).isEqualTo("fa044b2f42a3fd3b46fb255c");
        assertThat(HEX.formatHex(k.hp())).isEqualTo("9f50449e04a0e810283a1e9933adedd2");
        byte[] initial = QuicInitial.Keys.hmac(QuicInitial.INITIAL_SALT_V1, RFC_DCID);
        assertThat(HEX.formatHex(initial)).isEqualTo("7db5df06e7a69e432496adedb00851923595221596ae2ae9fb8115c1e9ed0a44");
        assertThat(HEX.formatHex(QuicInitial.Keys.expandLabel(initial, "client in", 32)))
                .isEqualTo("c00cf151ca5be075ed0ebfb5c80323c42d6b7db67881289af4008f1f6c357aea");
    }

    @Test
    void headerProtectionMatchesRfc9001AppendixA2() {
        QuicInitial.Keys k = QuicInitial.Keys.client(RFC_DCID);
        byte[] mask = k.headerMask(HEX.parseHex("d1b1c98dd7689fb8ec11d242b123dc9b"));
        assertThat(HEX.formatHex(mask, 0, 5)).isEqualTo("437b9aec36");
        // and the sealer applies it as A.2 shows: c3...00000002 becomes c0...7b9aec34
        byte[] sealed = seal(RFC_DCID, 2, crypto(0, jdkHello()), 1200, QuicInitial.VERSION_1);
        // (the first byte depends on the sample, so on the payload; the rest of the header must match)
        assertThat(HEX.formatHex(sealed, 1, 18)).isEqualTo("00000001088394c8f03e5157080000449e");
    }

    // ---- real ClientHellos from the JDK, carried in sealed Initials ----

    @Test
    void jdkHelloInOneInitial() {
        byte[] datagram = seal(crypto(0, jdkHello()));
        assertThat(datagram.length).isGreaterThanOrEqualTo(1200);
        ClientHello h = parsed(List.of(datagram));
        assertThat(h.serverName()).contains("quic.example.com");
        assertThat(h.alpn()).containsExactly("h3");
        assertThat(h.status()).isEqualTo(ClientHello.SniStatus.PLAIN);
        assertThat(h.complete()).isTrue();
    }

    @Test
    void splitReorderedCryptoFramesWithPingPaddingAndAck() {
        byte[] hs = jdkHello();
        int a = hs.length / 3, b = 2 * hs.length / 3;
        byte[] frames = TlsBytes.concat(
                crypto(b, Arrays.copyOfRange(hs, b, hs.length)), new byte[] {1, 0, 0},
                new byte[] {2, 5, 0, 1, 0, 1, 1}, // ACK: largest 5, delay 0, one extra range
                crypto(0, Arrays.copyOfRange(hs, 0, a)),
                crypto(a - 10, Arrays.copyOfRange(hs, a - 10, b))); // overlaps, same bytes
        ClientHello h = parsed(List.of(seal(frames)));
        assertThat(h.serverName()).contains("quic.example.com");
        assertThat(h.complete()).isTrue();
    }

    @Test
    void helloSpreadOverTwoDatagramsAndCoalescedPackets() {
        byte[] hs = jdkHello();
        int half = hs.length / 2;
        byte[] first = seal(RFC_DCID, 0, crypto(0, Arrays.copyOf(hs, half)), 0, QuicInitial.VERSION_1);
        byte[] second = seal(RFC_DCID, 1, crypto(half, Arrays.copyOfRange(hs, half, hs.length)), 0, QuicInitial.VERSION_1);
        assertThat(parsed(List.of(first, second)).complete()).isTrue();
        assertThat(parsed(List.of(TlsBytes.concat(first, second))).serverName()).contains("quic.example.com");
        assertThat(parsed(List.of(TlsBytes.concat(first, second, new byte[300]))).complete()).isTrue();
        // A coalesced 0-RTT/Handshake packet after the Initial ends the walk without error.
        assertThat(parsed(List.of(TlsBytes.concat(first, second, new byte[] {(byte) 0xe0, 0, 0, 0, 1}))).complete()).isTrue();
        // the first datagram alone: SNI sits early in the JDK hello, so it is already there
        ClientHello part = parsed(List.of(first));
        assertThat(part.complete()).isFalse();
        assertThat(part.serverName()).contains("quic.example.com");
        // a second datagram from another connection id is refused
        byte[] other = seal(HEX.parseHex("0102030405060708"), 1, crypto(half, Arrays.copyOfRange(hs, half, hs.length)), 0, QuicInitial.VERSION_1);
        assertThat(parser.parse(List.of(first, other))).isInstanceOfSatisfying(ParseResult.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectReason.BAD_FRAME));
    }

    @Test
    void cutCaptureIsReadWithoutTheTag() {
        byte[] hs = jdkHello();
        byte[] datagram = seal(crypto(0, hs));
        int cryptoStart = 18 + 4 + 4; // header (8-byte DCID), packet number, CRYPTO type/offset/2-byte length
        ClientHello h = parsed(List.of(Arrays.copyOf(datagram, cryptoStart + hs.length - 20)));
        assertThat(h.serverName()).contains("quic.example.com");
        assertThat(h.complete()).isFalse();
        for (int n = 0; n <= datagram.length; n += 7) {
            assertThat(parser.parse(Arrays.copyOf(datagram, n))).isNotNull();
        }
        rejected(Arrays.copyOf(datagram, 30), RejectReason.TRUNCATED);
    }

    // ---- hostile ----

    @Test
    void tamperedOrForeignPackets() {
        byte[] good = seal(crypto(0, jdkHello()));
        byte[] flipped = good.clone();
        flipped[600] ^= 1;
        rejected(flipped, RejectReason.DECRYPT_FAILED);
        rejected(seal(RFC_DCID, 2, crypto(0, jdkHello()), 1200, 0x6b3343cf), RejectReason.UNSUPPORTED_QUIC_VERSION);
        byte[] vn = good.clone();
        vn[1] = vn[2] = vn[3] = vn[4] = 0;
        rejected(vn, RejectReason.NOT_QUIC_INITIAL);
        byte[] shortHeader = good.clone();
        shortHeader[0] = 0x43;
        rejected(shortHeader, RejectReason.NOT_QUIC_INITIAL);
        byte[] handshakeType = good.clone();
        handshakeType[0] = (byte) 0xe0;
        rejected(handshakeType, RejectReason.NOT_QUIC_INITIAL);
        byte[] longCid = good.clone();
        longCid[5] = 21;
        rejected(longCid, RejectReason.LENGTH_MISMATCH);
        rejected("GET / HTTP/1.1\r\n\r\n".getBytes(), RejectReason.NOT_QUIC_INITIAL);
        rejected(new byte[0], RejectReason.EMPTY);
        assertThat(parser.parse((byte[]) null)).isInstanceOf(ParseResult.Rejected.class);
    }

    @Test
    void badFramesInsideAValidPacket() {
        byte[] hs = jdkHello();
        rejected(seal(TlsBytes.concat(crypto(0, hs), new byte[] {0x08, 0, 0})), RejectReason.BAD_FRAME); // STREAM
        rejected(seal(TlsBytes.concat(crypto(0, hs), new byte[] {0x1c, 0, 0, 0})), RejectReason.BAD_FRAME);
        rejected(seal(crypto(0x3fff_0000L, hs)), RejectReason.LENGTH_MISMATCH); // offset far beyond any hello
        byte[] conflicting = Arrays.copyOf(hs, 40);
        conflicting[39] ^= 1;
        rejected(seal(TlsBytes.concat(crypto(0, hs), crypto(0, conflicting))), RejectReason.BAD_FRAME);
        // CRYPTO length larger than the packet
        rejected(seal(TlsBytes.concat(new byte[] {6, 0, (byte) 0x7f, (byte) 0xff}, hs)), RejectReason.LENGTH_MISMATCH);
        // ACK claiming a huge range count
        rejected(seal(TlsBytes.concat(new byte[] {2, 0, 0, (byte) 0x7f, (byte) 0xff, 0}, crypto(0, hs))), RejectReason.LENGTH_MISMATCH);
        // no CRYPTO data at offset 0
        rejected(seal(TlsBytes.concat(new byte[] {1}, crypto(10, Arrays.copyOfRange(hs, 10, hs.length)))), RejectReason.TRUNCATED);
        // CRYPTO carries something that is not a ClientHello
        rejected(seal(crypto(0, new byte[] {2, 0, 0, 0})), RejectReason.NOT_CLIENT_HELLO);
    }

    static void writeCorpus() throws IOException {
        byte[] hs = jdkHello();
        byte[] full = seal(crypto(0, hs));
        Corpus.write("quic-ok-jdk-hello", full);
        Corpus.write("quic-ok-cut-capture", Arrays.copyOf(full, 26 + hs.length - 20));
        int half = hs.length / 2;
        ByteArrayOutputStream two = new ByteArrayOutputStream();
        two.writeBytes(seal(RFC_DCID, 0, crypto(0, Arrays.copyOf(hs, half)), 0, QuicInitial.VERSION_1));
        two.writeBytes(seal(RFC_DCID, 1, crypto(half, Arrays.copyOfRange(hs, half, hs.length)), 0, QuicInitial.VERSION_1));
        Corpus.write("quic-ok-coalesced", two.toByteArray());
        byte[] flipped = full.clone();
        flipped[600] ^= 1;
        Corpus.write("quic-rej-tampered", flipped);
    }
}

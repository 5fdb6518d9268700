package io.peekd.domain;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.Arrays;
import java.util.BitSet;
import java.util.HexFormat;
import java.util.List;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.Mac;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Reads the ClientHello from QUIC v1 client Initial packets. Initial packets are
 * encrypted only with keys derived from the (public) destination connection id
 * (RFC 9001 section 5.2), so an observer can open them with the JDK's HMAC and AES.
 * The ClientHello travels in CRYPTO frames, possibly split, reordered and spread over
 * coalesced packets or several datagrams; they are reassembled by offset.
 */
public final class QuicInitial {

    static final int VERSION_1 = 0x00000001;
    static final byte[] INITIAL_SALT_V1 = HexFormat.of().parseHex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a");
    /** Bytes of ClientHello reassembled at most; far above real hellos, small enough to hold per flow. */
    static final int MAX_CRYPTO = 1 << 16;
    static final int MAX_DATAGRAMS = 8;
    static final int MAX_CID = 20;

    private final RejectCounters counters = new RejectCounters();

    public RejectCounters counters() {
        return counters;
    }

    /** One UDP datagram from the client (it may hold several coalesced packets). Never throws. */
    public ParseResult<ClientHello> parse(byte[] datagram) {
        return parse(datagram == null ? null : List.of(datagram));
    }

    public ParseResult<ClientHello> parse(ByteBuffer datagram) {
        return parse(datagram == null ? null : DnsAnswers.copy(datagram));
    }

    /**
     * The first client datagrams of one flow, in order (at most {@value #MAX_DATAGRAMS} are
     * read): a large ClientHello, e.g. with post-quantum key shares, needs two. Never throws.
     */
    public ParseResult<ClientHello> parse(List<byte[]> datagrams) {
        return counters.record(guarded(datagrams));
    }

    private static ParseResult<ClientHello> guarded(List<byte[]> datagrams) {
        try {
            if (datagrams == null || datagrams.isEmpty() || datagrams.stream().allMatch(d -> d == null || d.length == 0)) {
                return new ParseResult.Rejected<>(RejectReason.EMPTY, "no bytes");
            }
            Crypto crypto = new Crypto();
            byte[] dcid = null;
            for (byte[] d : datagrams.subList(0, Math.min(datagrams.size(), MAX_DATAGRAMS))) {
                if (d == null) continue;
                int pos = 0;
                // Coalesced packets: read Initials until something else (or padding) follows.
                while (pos < d.length) {
                    if (pos > 0 && ((d[pos] & 0x80) == 0 || (d[pos] & 0x30) != 0)) break;
                    Packet p = openInitial(d, pos, dcid);
                    dcid = p.dcid;
                    readFrames(p.payload, crypto, p.cut);
                    if (p.cut) break;
                    pos = p.end;
                }
            }
            return new ParseResult.Parsed<>(TlsClientHello.parseHandshake(crypto.prefix(), true));
        } catch (Malformed m) {
            return m.toResult();
        } catch (RuntimeException e) {
            return new ParseResult.Rejected<>(RejectReason.INTERNAL_ERROR, e.toString());
        }
    }

    /** {@code cut}: the capture ended inside this packet and {@code payload} is its decrypted start. */
    private record Packet(byte[] dcid, byte[] payload, int end, boolean cut) {
    }

    /** Removes header protection and AEAD from the Initial at {@code start}. */
    static Packet openInitial(byte[] d, int start, byte[] expectDcid) {
        // No declared end: the datagram may be a capture cut short, so running out means TRUNCATED.
        Cursor c = Cursor.declared(d, start, Integer.MAX_VALUE, d.length);
        int first = c.u8("first byte");
        if ((first & 0x80) == 0) throw new Malformed(RejectReason.NOT_QUIC_INITIAL, "short header packet");
        int version = c.u16("version") << 16 | c.u16("version");
        if (version == 0) throw new Malformed(RejectReason.NOT_QUIC_INITIAL, "version negotiation packet");
        if (version != VERSION_1) throw new Malformed(RejectReason.UNSUPPORTED_QUIC_VERSION, String.format("version 0x%08x", version));
        if ((first & 0x40) == 0) throw new Malformed(RejectReason.NOT_QUIC_INITIAL, "fixed bit clear");
        if ((first & 0x30) != 0) throw new Malformed(RejectReason.NOT_QUIC_INITIAL, "long header type " + ((first >> 4) & 3));
        int dcidLen = c.u8("dcid length");
        if (dcidLen > MAX_CID) throw new Malformed(RejectReason.LENGTH_MISMATCH, "dcid of " + dcidLen + " bytes");
        byte[] dcid = c.bytes(dcidLen, "dcid");
        if (expectDcid != null && !Arrays.equals(dcid, expectDcid)) {
            throw new Malformed(RejectReason.BAD_FRAME, "Initial packets of one flow with different connection ids");
        }
        int scidLen = c.u8("scid length");
        if (scidLen > MAX_CID) throw new Malformed(RejectReason.LENGTH_MISMATCH, "scid of " + scidLen + " bytes");
        c.skip(scidLen, "scid");
        long tokenLen = varint(c, "token length");
        if (tokenLen > d.length) throw new Malformed(RejectReason.TRUNCATED, "token of " + tokenLen + " bytes");
        c.skip((int) tokenLen, "token");
        long length = varint(c, "packet length");
        int pnOffset = c.pos();
        if (length < 4 + 16) throw new Malformed(RejectReason.LENGTH_MISMATCH, "packet of " + length + " bytes cannot hold a sample");
        if (d.length - pnOffset < 4 + 16) throw new Malformed(RejectReason.TRUNCATED, "capture ends before the header-protection sample");
        boolean cut = length > d.length - pnOffset;
        int end = cut ? d.length : pnOffset + (int) length;

        Keys k = Keys.client(dcid);
        byte[] mask = k.headerMask(Arrays.copyOfRange(d, pnOffset + 4, pnOffset + 20));
        byte[] header = Arrays.copyOfRange(d, start, pnOffset + 4);
        header[0] ^= (byte) (mask[0] & 0x0f);
        int pnLen = (header[0] & 0x03) + 1;
        long pn = 0;
        int pnAt = pnOffset - start;
        for (int i = 0; i < pnLen; i++) {
            header[pnAt + i] ^= mask[1 + i];
            pn = pn << 8 | header[pnAt + i] & 0xff;
        }
        byte[] aad = Arrays.copyOf(header, pnAt + pnLen);
        int ctLen = end - pnOffset - pnLen;
        // A cut packet cannot be authenticated, but GCM is CTR underneath, so its start can still be
        // read. That loses no safety: Initial keys are public, so anyone could forge a valid packet.
        byte[] payload = cut ? k.openUnauthenticated(pn, d, pnOffset + pnLen, ctLen) : k.open(pn, aad, d, pnOffset + pnLen, ctLen);
        return new Packet(dcid, payload, end, cut);
    }

    /** Walks the frames a client Initial may carry, keeping CRYPTO data. */
    private static void readFrames(byte[] payload, Crypto crypto, boolean cut) {
        if (payload.length == 0 && !cut) throw new Malformed(RejectReason.BAD_FRAME, "packet without frames");
        try {
            readFrames(payload, crypto);
        } catch (Malformed m) {
            if (!cut || m.reason != RejectReason.TRUNCATED && m.reason != RejectReason.LENGTH_MISMATCH) throw m;
            // The capture ended mid-frame; a CRYPTO frame's available bytes were already kept.
        }
    }

    private static void readFrames(byte[] payload, Crypto crypto) {
        Cursor c = Cursor.of(payload, 0, payload.length);
        while (!c.atDeclaredEnd()) {
            long type = varint(c, "frame type");
            switch ((int) Math.min(type, Integer.MAX_VALUE)) {
                case 0x00, 0x01 -> { } // PADDING, PING
                case 0x02, 0x03 -> skipAck(c, type == 0x03);
                case 0x06 -> {
                    long offset = varint(c, "CRYPTO offset");
                    long len = varint(c, "CRYPTO length");
                    if (len > c.remainingDeclared()) {
                        crypto.add(offset, payload, c.pos(), c.remainingDeclared());
                        throw new Malformed(RejectReason.LENGTH_MISMATCH, "CRYPTO frame of " + len + " bytes");
                    }
                    crypto.add(offset, payload, c.pos(), (int) len);
                    c.skip((int) len, "CRYPTO data");
                }
                case 0x1c -> throw new Malformed(RejectReason.BAD_FRAME, "CONNECTION_CLOSE in client Initial");
                default -> throw new Malformed(RejectReason.BAD_FRAME, "frame type 0x" + Long.toHexString(type) + " not allowed in Initial");
            }
        }
    }

    private static void skipAck(Cursor c, boolean ecn) {
        varint(c, "largest acknowledged");
        varint(c, "ack delay");
        long ranges = varint(c, "ack range count");
        varint(c, "first ack range");
        // Each range is at least two bytes, so the count is bounded by the packet itself.
        if (ranges > c.remainingDeclared() / 2) throw new Malformed(RejectReason.LENGTH_MISMATCH, ranges + " ACK ranges");
        for (long i = 0; i < ranges; i++) {
            varint(c, "gap");
            varint(c, "ack range");
        }
        if (ecn) for (int i = 0; i < 3; i++) varint(c, "ECN count");
    }

    static long varint(Cursor c, String what) {
        int first = c.u8(what);
        int len = 1 << (first >> 6);
        long v = first & 0x3f;
        for (int i = 1; i < len; i++) v = v << 8 | c.u8(what);
        return v;
    }

    /** CRYPTO stream bytes by offset; only the contiguous prefix from 0 is handed to the TLS parser. */
    private static final class Crypto {
        private final byte[] buf = new byte[MAX_CRYPTO];
        private final BitSet have = new BitSet(MAX_CRYPTO);

        void add(long offset, byte[] src, int from, int len) {
            if (offset + len > MAX_CRYPTO) {
                throw new Malformed(RejectReason.LENGTH_MISMATCH, "CRYPTO data reaches offset " + (offset + len));
            }
            // Overlapping retransmissions must agree; a client that says two things is not believed.
            for (int i = 0; i < len; i++) {
                int at = (int) offset + i;
                if (have.get(at) && buf[at] != src[from + i]) throw new Malformed(RejectReason.BAD_FRAME, "CRYPTO data differs at offset " + at);
            }
            System.arraycopy(src, from, buf, (int) offset, len);
            have.set((int) offset, (int) offset + len);
        }

        byte[] prefix() {
            int n = have.nextClearBit(0);
            if (n == 0) throw new Malformed(RejectReason.TRUNCATED, "no CRYPTO data at offset 0");
            return Arrays.copyOf(buf, n);
        }
    }

    /** Client Initial keys, RFC 9001 section 5.2. */
    record Keys(byte[] key, byte[] iv, byte[] hp) {

        static Keys client(byte[] dcid) {
            byte[] initial = hmac(INITIAL_SALT_V1, dcid); // HKDF-Extract
            byte[] client = expandLabel(initial, "client in", 32);
            return new Keys(expandLabel(client, "quic key", 16), expandLabel(client, "quic iv", 12), expandLabel(client, "quic hp", 16));
        }

        /** HKDF-Expand-Label (RFC 8446 section 7.1) with an empty context; one HMAC block suffices for up to 32 bytes. */
        static byte[] expandLabel(byte[] secret, String label, int length) {
            byte[] full = ("tls13 " + label).getBytes(StandardCharsets.US_ASCII);
            ByteBuffer info = ByteBuffer.allocate(2 + 1 + full.length + 1 + 1);
            info.putShort((short) length).put((byte) full.length).put(full).put((byte) 0).put((byte) 1);
            return Arrays.copyOf(hmac(secret, info.array()), length);
        }

        static byte[] hmac(byte[] key, byte[] data) {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(key, "HmacSHA256"));
                return mac.doFinal(data);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 unavailable", e);
            }
        }

        byte[] headerMask(byte[] sample) {
            try {
                Cipher ecb = Cipher.getInstance("AES/ECB/NoPadding");
                ecb.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(hp, "AES"));
                return ecb.doFinal(sample);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES/ECB unavailable", e);
            }
        }

        byte[] nonce(long pn) {
            byte[] n = iv.clone();
            for (int i = 0; i < 8; i++) n[n.length - 1 - i] ^= (byte) (pn >>> (8 * i));
            return n;
        }

        byte[] openUnauthenticated(long pn, byte[] src, int off, int len) {
            try {
                byte[] counter = Arrays.copyOf(nonce(pn), 16);
                counter[15] = 2; // GCM's first plaintext block uses counter value 2
                Cipher ctr = Cipher.getInstance("AES/CTR/NoPadding");
                ctr.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new javax.crypto.spec.IvParameterSpec(counter));
                return ctr.doFinal(src, off, len);
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("AES/CTR unavailable", e);
            }
        }

        byte[] open(long pn, byte[] aad, byte[] src, int off, int len) {
            try {
                Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
                gcm.init(Cipher.DECRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, nonce(pn)));
                gcm.updateAAD(aad);
                return gcm.doFinal(src, off, len);
            } catch (AEADBadTagException e) {
                throw new Malformed(RejectReason.DECRYPT_FAILED, "AEAD tag mismatch: not a client Initial, or altered");
            } catch (GeneralSecurityException e) {
                throw new Malformed(RejectReason.DECRYPT_FAILED, "decryption failed: " + e.getMessage());
            }
        }
    }
}

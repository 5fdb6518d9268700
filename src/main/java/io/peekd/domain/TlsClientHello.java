package io.peekd.domain;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Reads the SNI, ALPN and ECH status from the first bytes a TLS client sends.
 * The ClientHello may span several records and may be cut off anywhere; what lies
 * before the cut is still used. Every length is checked against both the structure
 * that encloses it and the bytes actually present.
 */
public final class TlsClientHello {

    static final int CONTENT_HANDSHAKE = 22;
    static final int HANDSHAKE_CLIENT_HELLO = 1;
    static final int MAX_RECORD = 1 << 14;
    /** Largest body the ClientHello grammar allows (all vectors at their maximum). */
    static final int MAX_HELLO = 2 + 32 + (1 + 32) + (2 + 65534) + (1 + 255) + (2 + 65535);
    static final int EXT_SERVER_NAME = 0x0000;
    static final int EXT_ALPN = 0x0010;
    static final int EXT_ECH = 0xfe0d;
    /** Draft ESNI, still sent by some old clients. */
    static final int EXT_ESNI = 0xffce;

    private final RejectCounters counters = new RejectCounters();

    public RejectCounters counters() {
        return counters;
    }

    /** Parses the first bytes of a client-to-server TLS flow. Never throws. */
    public ParseResult<ClientHello> parse(byte[] firstBytes) {
        return counters.record(guarded(firstBytes));
    }

    /** Reads the remaining bytes of {@code firstBytes} without moving its position. Never throws. */
    public ParseResult<ClientHello> parse(ByteBuffer firstBytes) {
        return parse(firstBytes == null ? null : DnsAnswers.copy(firstBytes));
    }

    private static ParseResult<ClientHello> guarded(byte[] in) {
        try {
            if (in == null || in.length == 0) return new ParseResult.Rejected<>(RejectReason.EMPTY, "no bytes");
            Handshake hs = reassemble(in);
            return new ParseResult.Parsed<>(parseHandshake(hs.bytes, hs.cut));
        } catch (Malformed m) {
            return m.toResult();
        } catch (RuntimeException e) {
            return new ParseResult.Rejected<>(RejectReason.INTERNAL_ERROR, e.toString());
        }
    }

    private record Handshake(byte[] bytes, boolean cut) {
    }

    /** Joins the handshake-record fragments that carry the first handshake message. */
    private static Handshake reassemble(byte[] in) {
        ByteArrayOutputStream hs = new ByteArrayOutputStream(Math.min(in.length, 4096));
        int pos = 0;
        while (true) {
            if (hs.size() >= 4 && hs.size() >= 4 + handshakeLength(hs.toByteArray())) return new Handshake(hs.toByteArray(), false);
            if (pos >= in.length) {
                if (hs.size() == 0) throw new Malformed(RejectReason.TRUNCATED, "no record body");
                return new Handshake(hs.toByteArray(), true);
            }
            int type = in[pos] & 0xff;
            if (type != CONTENT_HANDSHAKE) {
                if (hs.size() == 0) throw new Malformed(RejectReason.NOT_HANDSHAKE, "record type " + type);
                // Handshake interleaved with other content is forbidden; what we have is all we get.
                throw new Malformed(RejectReason.LENGTH_MISMATCH, "record type " + type + " inside the ClientHello");
            }
            if (in.length - pos < 5) {
                if (hs.size() == 0) throw new Malformed(RejectReason.TRUNCATED, "record header cut off");
                return new Handshake(hs.toByteArray(), true);
            }
            int major = in[pos + 1] & 0xff, minor = in[pos + 2] & 0xff;
            if (major != 3 || minor > 4) {
                throw new Malformed(RejectReason.BAD_RECORD_VERSION, "record version " + major + "." + minor);
            }
            int len = (in[pos + 3] & 0xff) << 8 | in[pos + 4] & 0xff;
            if (len > MAX_RECORD) throw new Malformed(RejectReason.RECORD_TOO_LONG, "record of " + len + " bytes");
            if (len == 0) throw new Malformed(RejectReason.LENGTH_MISMATCH, "empty handshake record");
            pos += 5;
            int take = Math.min(len, in.length - pos);
            hs.write(in, pos, take);
            pos += take;
        }
    }

    private static int handshakeLength(byte[] hs) {
        return (hs[1] & 0xff) << 16 | (hs[2] & 0xff) << 8 | hs[3] & 0xff;
    }

    /**
     * Parses a handshake message that should be a ClientHello, as found in TLS records
     * or QUIC CRYPTO frames. {@code cut} says the bytes may stop before the message does.
     */
    static ClientHello parseHandshake(byte[] hs, boolean cut) {
        Cursor head = Cursor.declared(hs, 0, 4, hs.length);
        int type = head.u8("handshake type");
        if (type != HANDSHAKE_CLIENT_HELLO) throw new Malformed(RejectReason.NOT_CLIENT_HELLO, "handshake type " + type);
        int len = head.u24("handshake length");
        if (len > MAX_HELLO) throw new Malformed(RejectReason.LENGTH_MISMATCH, "ClientHello claims " + len + " bytes");
        Cursor c = Cursor.declared(hs, 4, len, hs.length);
        if (!cut && !c.complete()) throw new Malformed(RejectReason.LENGTH_MISMATCH, "ClientHello shorter than its length");

        int version = c.u16("legacy_version");
        if (version >> 8 != 3) throw new Malformed(RejectReason.BAD_RECORD_VERSION, String.format("legacy_version 0x%04x", version));
        c.skip(32, "random");
        int sid = c.u8("session_id length");
        if (sid > 32) throw new Malformed(RejectReason.LENGTH_MISMATCH, "session_id of " + sid + " bytes");
        c.skip(sid, "session_id");
        int suites = c.u16("cipher_suites length");
        if (suites < 2 || suites % 2 != 0) throw new Malformed(RejectReason.LENGTH_MISMATCH, "cipher_suites of " + suites + " bytes");
        c.skip(suites, "cipher_suites");
        int comp = c.u8("compression_methods length");
        if (comp < 1) throw new Malformed(RejectReason.LENGTH_MISMATCH, "no compression method");
        c.skip(comp, "compression_methods");
        if (c.atDeclaredEnd()) return new ClientHello(Optional.empty(), List.of(), ClientHello.SniStatus.ABSENT, true);

        Extensions ext = new Extensions();
        boolean complete = ext.read(c.sub(c.u16("extensions length"), "extensions"));
        if (complete && !c.atDeclaredEnd()) {
            throw new Malformed(RejectReason.LENGTH_MISMATCH, c.remainingDeclared() + " bytes after the extensions");
        }
        ClientHello.SniStatus status = ext.encrypted ? ClientHello.SniStatus.ENCRYPTED
                : ext.serverName != null ? ClientHello.SniStatus.PLAIN : ClientHello.SniStatus.ABSENT;
        if (!complete && status == ClientHello.SniStatus.ABSENT) {
            throw new Malformed(RejectReason.TRUNCATED, "cut off before server_name");
        }
        return new ClientHello(Optional.ofNullable(ext.serverName), ext.alpn, status, complete);
    }

    private static final class Extensions {
        String serverName;
        List<String> alpn = List.of();
        boolean encrypted;
        private final Set<Integer> seen = new HashSet<>();

        /** Returns false when the bytes ran out first; anything else wrong throws. */
        boolean read(Cursor exts) {
            try {
                while (!exts.atDeclaredEnd()) {
                    int type = exts.u16("extension type");
                    int len = exts.u16("extension length");
                    Cursor e = exts.sub(len, String.format("extension 0x%04x", type));
                    if (!seen.add(type)) throw new Malformed(RejectReason.DUPLICATE_EXTENSION, String.format("extension 0x%04x twice", type));
                    switch (type) {
                        case EXT_SERVER_NAME -> serverName = serverName(e);
                        case EXT_ALPN -> alpn = alpn(e);
                        case EXT_ECH, EXT_ESNI -> encrypted = true;
                        default -> { }
                    }
                }
                return exts.complete();
            } catch (Malformed m) {
                if (m.reason == RejectReason.TRUNCATED) return false;
                throw m;
            }
        }

        private static String serverName(Cursor e) {
            Cursor list = e.sub(e.u16("server_name_list length"), "server_name_list");
            if (list.atDeclaredEnd()) throw new Malformed(RejectReason.BAD_EXTENSION, "empty server_name_list");
            String host = null;
            while (!list.atDeclaredEnd()) {
                int nameType = list.u8("name_type");
                byte[] name = list.bytes(list.u16("host_name length"), "host_name");
                if (nameType != 0) continue; // unknown name types are skipped, as RFC 6066 allows
                if (host != null) throw new Malformed(RejectReason.BAD_EXTENSION, "two host_name entries");
                for (byte b : name) {
                    if (b < 0x21 || b == 0x7f) throw new Malformed(RejectReason.INVALID_NAME, "non-ASCII or control byte in host_name");
                }
                host = DomainNames.canonical(new String(name, StandardCharsets.US_ASCII));
            }
            endOf(e, "server_name");
            if (host == null) throw new Malformed(RejectReason.BAD_EXTENSION, "server_name without host_name");
            return host;
        }

        private static List<String> alpn(Cursor e) {
            Cursor list = e.sub(e.u16("protocol_name_list length"), "protocol_name_list");
            List<String> out = new ArrayList<>();
            while (!list.atDeclaredEnd()) {
                int n = list.u8("protocol name length");
                if (n == 0) throw new Malformed(RejectReason.BAD_EXTENSION, "empty protocol name");
                out.add(printable(list.bytes(n, "protocol name")));
            }
            endOf(e, "alpn");
            if (out.isEmpty()) throw new Malformed(RejectReason.BAD_EXTENSION, "empty protocol_name_list");
            return out;
        }

        private static void endOf(Cursor e, String what) {
            if (!e.atDeclaredEnd()) throw new Malformed(RejectReason.LENGTH_MISMATCH, e.remainingDeclared() + " stray bytes in " + what);
        }
    }

    /** ALPN ids are opaque bytes; GREASE values are not text. */
    private static String printable(byte[] b) {
        for (byte x : b) {
            if (x < 0x20 || x == 0x7f) return "0x" + HexFormat.of().formatHex(b);
        }
        return new String(b, StandardCharsets.US_ASCII);
    }
}

package io.peekd.domain;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;

/** Test-side producers of ClientHello bytes: the JDK's own TLS stack, and a builder for hostile variants. */
final class TlsBytes {

    private TlsBytes() {
    }

    /** The first flight of a real JDK TLS client: one or more records carrying its ClientHello. */
    static byte[] jdkClientHello(String sni, List<String> alpn, String... protocols) {
        try {
            SSLContext ctx = SSLContext.getInstance("TLS");
            ctx.init(null, null, null);
            SSLEngine engine = ctx.createSSLEngine();
            engine.setUseClientMode(true);
            SSLParameters p = engine.getSSLParameters();
            p.setServerNames(sni == null ? List.<SNIServerName>of() : List.of(new SNIHostName(sni)));
            if (!alpn.isEmpty()) p.setApplicationProtocols(alpn.toArray(String[]::new));
            if (protocols.length > 0) p.setProtocols(protocols);
            engine.setSSLParameters(p);
            engine.beginHandshake();
            ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
            engine.wrap(ByteBuffer.allocate(0), out);
            out.flip();
            byte[] b = new byte[out.remaining()];
            out.get(b);
            return b;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** The handshake message of a single-record flight, without the record header. */
    static byte[] handshakeOf(byte[] record) {
        return java.util.Arrays.copyOfRange(record, 5, record.length);
    }

    /** Re-frames one handshake message into records of at most {@code size} bytes each. */
    static byte[] fragment(byte[] handshake, int size) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (int i = 0; i < handshake.length; i += size) {
            int n = Math.min(size, handshake.length - i);
            out.writeBytes(new byte[] {22, 3, 1, (byte) (n >> 8), (byte) n});
            out.write(handshake, i, n);
        }
        return out.toByteArray();
    }

    static byte[] u16(int v) {
        return new byte[] {(byte) (v >> 8), (byte) v};
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    static byte[] ext(int type, byte[] data) {
        return concat(u16(type), u16(data.length), data);
    }

    static byte[] sniExt(String host) {
        byte[] h = host.getBytes(StandardCharsets.ISO_8859_1);
        byte[] entry = concat(new byte[] {0}, u16(h.length), h);
        return ext(0, concat(u16(entry.length), entry));
    }

    static byte[] alpnExt(String... protos) {
        ByteArrayOutputStream list = new ByteArrayOutputStream();
        for (String p : protos) {
            list.write(p.length());
            list.writeBytes(p.getBytes(StandardCharsets.US_ASCII));
        }
        return ext(16, concat(u16(list.size()), list.toByteArray()));
    }

    /** ClientHello body fields up to, not including, the extensions length. */
    static byte[] helloPrefix() {
        return concat(new byte[] {3, 3}, new byte[32], new byte[] {0}, u16(2), new byte[] {0x13, 0x01}, new byte[] {1, 0});
    }

    /** A ClientHello record with the given extension bytes, all lengths consistent. */
    static byte[] hello(byte[]... extensions) {
        byte[] exts = concat(extensions);
        return helloWithBody(concat(helloPrefix(), u16(exts.length), exts));
    }

    static byte[] helloWithBody(byte[] body) {
        byte[] hs = concat(new byte[] {1, (byte) (body.length >> 16), (byte) (body.length >> 8), (byte) body.length}, body);
        return concat(new byte[] {22, 3, 1}, u16(hs.length), hs);
    }
}

package io.peekd.domain;

import java.util.List;

/** For end-to-end tests outside this package: a real, sealed QUIC v1 client Initial. */
public final class QuicPackets {
    private QuicPackets() {
    }

    /** A protected Initial carrying a JDK-made TLS 1.3 ClientHello for {@code sni}, padded to 1200 bytes. */
    public static byte[] initial(String sni) {
        byte[] hello = TlsBytes.handshakeOf(TlsBytes.jdkClientHello(sni, List.of("h3"), "TLSv1.3"));
        return QuicInitialTest.seal(QuicInitialTest.crypto(0, hello));
    }
}

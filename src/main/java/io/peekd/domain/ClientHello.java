package io.peekd.domain;

import java.util.List;
import java.util.Optional;

/**
 * What a TLS (or QUIC) ClientHello tells about the destination.
 *
 * @param serverName canonical SNI host_name; under ECH this is the outer, public name
 * @param alpn       offered application protocols in order; unprintable ones as {@code 0x...}
 * @param status     whether the real destination name is visible
 * @param complete   false when the hello was cut short; fields after the cut are unknown
 */
public record ClientHello(Optional<String> serverName, List<String> alpn, SniStatus status, boolean complete) {

    public ClientHello {
        alpn = List.copyOf(alpn);
    }

    public enum SniStatus {
        /** server_name present and nothing hides the real one. */
        PLAIN,
        /** encrypted_client_hello (or the older ESNI draft) present: server_name is only a front. */
        ENCRYPTED,
        /** No server_name in the part of the hello we read. */
        ABSENT
    }
}

package io.peekd.domain;

import java.util.Optional;

/**
 * The destination-revealing parts of an HTTP/1.x request head.
 *
 * @param method          request method, as sent (methods are case-sensitive)
 * @param target          request-target, as sent
 * @param minorVersion    0 or 1 (HTTP/1.0, HTTP/1.1)
 * @param host            the {@code Host} header, if present (and non-empty)
 * @param targetAuthority authority from a CONNECT target or an absolute-form URI: a proxy request
 * @param complete        false when the bytes stopped before the blank line ending the head
 */
public record HttpHead(String method, String target, int minorVersion, Optional<HostPort> host,
                       Optional<HostPort> targetAuthority, boolean complete) {

    /** Where the client wants to go: the proxy target if any, else the Host header. */
    public Optional<HostPort> destination() {
        return targetAuthority.or(() -> host);
    }

    /** The destination's domain name, if it is a name rather than an IP literal. */
    public Optional<String> domain() {
        return destination().filter(h -> h.kind() == HostPort.Kind.NAME).map(HostPort::host);
    }

    public boolean isConnect() {
        return method.equals("CONNECT");
    }
}

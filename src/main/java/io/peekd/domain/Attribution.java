package io.peekd.domain;

/**
 * The domain given to a flow, and why.
 *
 * @param domain     the name, or null
 * @param source     sni, quic, http, connect, dns, getaddrinfo, ptr, or null
 * @param confidence high, medium, low, or null when there is no domain
 * @param status     ok, ambiguous, encrypted or none
 */
public record Attribution(String domain, String source, String confidence, String status) {
    public static final Attribution NONE = new Attribution(null, null, null, "none");
}

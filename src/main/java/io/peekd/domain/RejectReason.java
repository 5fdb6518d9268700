package io.peekd.domain;

import java.util.Locale;

/**
 * Why a parser dropped its input. One flat enum (rather than one per parser) so
 * that metrics can label every counter the same way: {@code reason="bad_compression"}.
 */
public enum RejectReason {
    // Shared
    EMPTY(Kind.IGNORED),
    TRUNCATED(Kind.TRUNCATED),
    INVALID_NAME(Kind.MALFORMED),
    /** A parser bug caught at the boundary; should stay at zero. */
    INTERNAL_ERROR(Kind.INTERNAL),

    // DNS
    NOT_RESPONSE(Kind.IGNORED),
    RCODE_ERROR(Kind.IGNORED),
    NO_QUESTION(Kind.IGNORED),
    BAD_COMPRESSION(Kind.MALFORMED),
    BAD_LABEL(Kind.MALFORMED),
    NAME_TOO_LONG(Kind.MALFORMED),
    BAD_RECORD(Kind.MALFORMED),
    ZERO_LENGTH_MESSAGE(Kind.MALFORMED),

    // TLS
    NOT_HANDSHAKE(Kind.IGNORED),
    NOT_CLIENT_HELLO(Kind.IGNORED),
    BAD_RECORD_VERSION(Kind.MALFORMED),
    RECORD_TOO_LONG(Kind.MALFORMED),
    LENGTH_MISMATCH(Kind.MALFORMED),
    DUPLICATE_EXTENSION(Kind.MALFORMED),
    BAD_EXTENSION(Kind.MALFORMED),

    // HTTP
    NOT_HTTP(Kind.IGNORED),
    BAD_METHOD(Kind.MALFORMED),
    BAD_TARGET(Kind.MALFORMED),
    BAD_HTTP_VERSION(Kind.MALFORMED),
    LINE_TOO_LONG(Kind.MALFORMED),
    HEAD_TOO_LONG(Kind.MALFORMED),
    TOO_MANY_HEADERS(Kind.MALFORMED),
    BAD_LINE_ENDING(Kind.MALFORMED),
    BAD_HEADER_NAME(Kind.MALFORMED),
    BAD_HEADER_VALUE(Kind.MALFORMED),
    OBSOLETE_LINE_FOLDING(Kind.MALFORMED),
    DUPLICATE_HOST(Kind.MALFORMED),
    BAD_HOST(Kind.MALFORMED),

    // QUIC
    NOT_QUIC_INITIAL(Kind.IGNORED),
    UNSUPPORTED_QUIC_VERSION(Kind.IGNORED),
    DECRYPT_FAILED(Kind.MALFORMED),
    BAD_FRAME(Kind.MALFORMED);

    /** Coarse class for alerting: only MALFORMED and INTERNAL hint at hostility or bugs. */
    public enum Kind { IGNORED, TRUNCATED, MALFORMED, INTERNAL }

    private final Kind kind;

    RejectReason(Kind kind) {
        this.kind = kind;
    }

    public Kind kind() {
        return kind;
    }

    /** Stable lower-case label for metrics and logs. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}

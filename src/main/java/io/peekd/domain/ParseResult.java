package io.peekd.domain;

import java.util.Optional;

/**
 * What a domain-evidence parser made of one slice of bytes. Parsers never throw:
 * every input, however hostile, ends in one of these two cases.
 */
public sealed interface ParseResult<T> {

    /** The bytes held the evidence we were looking for. */
    record Parsed<T>(T value) implements ParseResult<T> {
        public Parsed {
            if (value == null) throw new IllegalArgumentException("value is null");
        }
    }

    /** The bytes were dropped; {@code detail} is a short human-readable explanation for logs. */
    record Rejected<T>(RejectReason reason, String detail) implements ParseResult<T> {
        public Rejected {
            if (reason == null) throw new IllegalArgumentException("reason is null");
            detail = detail == null ? "" : detail;
        }
    }

    default Optional<T> parsed() {
        return switch (this) {
            case Parsed<T>(T v) -> Optional.of(v);
            case Rejected<T> r -> Optional.empty();
        };
    }

    default boolean isParsed() {
        return this instanceof Parsed;
    }
}

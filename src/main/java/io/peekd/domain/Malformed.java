package io.peekd.domain;

/**
 * Internal unwinding signal of the hand-written parsers. It never leaves this
 * package: every public entry point turns it into a {@link ParseResult.Rejected}.
 * No stack trace, because it is thrown on hostile input and must stay cheap.
 */
final class Malformed extends RuntimeException {

    final RejectReason reason;

    Malformed(RejectReason reason, String detail) {
        super(detail, null, false, false);
        this.reason = reason;
    }

    <T> ParseResult<T> toResult() {
        return new ParseResult.Rejected<>(reason, getMessage());
    }
}

package io.peekd.web;

/** Input the API cannot use; the message goes back to the caller as is, with status 400. */
final class BadRequest extends RuntimeException {
    BadRequest(String message) {
        super(message);
    }
}

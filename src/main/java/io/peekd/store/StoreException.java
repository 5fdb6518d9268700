package io.peekd.store;

/**
 * The database cannot be opened or used as asked. The message is meant for the
 * operator as is: it names the file and what to do about it.
 */
public final class StoreException extends RuntimeException {

    StoreException(String message) {
        super(message);
    }

    StoreException(String message, Throwable cause) {
        super(message, cause);
    }
}

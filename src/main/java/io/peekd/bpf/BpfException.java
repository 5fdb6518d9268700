package io.peekd.bpf;

/** A kernel or libbpf operation failed; the message is meant for the operator. */
public class BpfException extends RuntimeException {
    public BpfException(String message) {
        super(message);
    }

    public BpfException(String message, Throwable cause) {
        super(message, cause);
    }

    static BpfException errno(String what, int errno) {
        return new BpfException(what + ": " + Errno.describe(errno));
    }
}

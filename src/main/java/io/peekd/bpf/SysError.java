package io.peekd.bpf;

import java.io.IOException;

/**
 * A system call failed with {@code errno}. Callers turn the errno into a reason
 * a user understands ("permission denied", "gone"), so it is kept as a number.
 */
public final class SysError extends IOException {
    public static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, EBADF = 9, EAGAIN = 11,
            EACCES = 13, EINVAL = 22, ENFILE = 23, EMFILE = 24, ETXTBSY = 26, ENOSYS = 38, ESTALE = 116;

    private final int errno;

    public SysError(String what, int errno) {
        super(what + ": " + name(errno));
        this.errno = Math.abs(errno);
    }

    public int errno() {
        return errno;
    }

    /** A short lower-case name for the errno, as stored in a row's sha256 reason. */
    public static String name(int errno) {
        return switch (Math.abs(errno)) {
            case EPERM -> "operation not permitted";
            case ENOENT -> "no such file";
            case ESRCH -> "no such process";
            case EINTR -> "interrupted";
            case EIO -> "i/o error";
            case EBADF -> "bad file descriptor";
            case EAGAIN -> "try again";
            case EACCES -> "permission denied";
            case EINVAL -> "invalid argument";
            case ENFILE, EMFILE -> "too many open files";
            case ETXTBSY -> "text file busy";
            case ENOSYS -> "not supported by this kernel";
            case ESTALE -> "stale file handle";
            default -> "errno " + Math.abs(errno);
        };
    }
}

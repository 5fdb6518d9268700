package io.peekd.bpf;

/** Human names for the errno values libbpf and the kernel hand back. */
final class Errno {
    static final int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, E2BIG = 7, EAGAIN = 11, ENOMEM = 12,
            EACCES = 13, EEXIST = 17, EINVAL = 22, ENOSPC = 28, ENOSYS = 38, EOPNOTSUPP = 95;

    private Errno() {
    }

    static String describe(int errno) {
        int e = Math.abs(errno);
        String name = switch (e) {
            case EPERM -> "EPERM (operation not permitted: run as root or with CAP_BPF and CAP_PERFMON)";
            case ENOENT -> "ENOENT (not found)";
            case ESRCH -> "ESRCH (no such process or hook)";
            case EINTR -> "EINTR (interrupted)";
            case E2BIG -> "E2BIG (too big)";
            case EAGAIN -> "EAGAIN (try again)";
            case ENOMEM -> "ENOMEM (out of memory or locked-memory limit)";
            case EACCES -> "EACCES (permission denied, or rejected by the BPF verifier)";
            case EEXIST -> "EEXIST (already exists)";
            case EINVAL -> "EINVAL (invalid argument: the kernel may not support this)";
            case ENOSPC -> "ENOSPC (no space)";
            case ENOSYS -> "ENOSYS (not implemented by this kernel)";
            case EOPNOTSUPP -> "EOPNOTSUPP (not supported by this kernel)";
            default -> "errno " + e;
        };
        return name;
    }
}

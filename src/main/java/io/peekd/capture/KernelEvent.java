package io.peekd.capture;

/** Decoded ring-buffer records: the rare events the kernel tells us about. */
public sealed interface KernelEvent {

    /** Boot-clock nanoseconds when the kernel saw it. */
    long tsNs();

    /**
     * A program was executed. {@code exePath} is rebuilt in the kernel from the opened file;
     * {@code args} is argv (as far as the kernel copied it) with NUL between the words.
     * {@code cwd} is the working directory at exec, rebuilt in the kernel like the exe path
     * (null when it was too deep to rebuild): it places a relative script even after a
     * short-lived interpreter is gone.
     */
    record Exec(long tsNs, int tgid, long startNs, int ppid, long pstartNs, int uid, int gid,
                long exeDev, long exeIno, String comm, String exePath, boolean pathTruncated,
                String filename, String args, long cgroupId, String cwd) implements KernelEvent {}

    /**
     * First sight of a flow key, or a connect() starting (then the source port is still 0):
     * carries what the drain cannot see (comm, parent, cgroup), for identity.
     */
    record NewFlow(long tsNs, FlowKey key, int tid, String comm, int ppid, long pstartNs,
                   long cgroupId) implements KernelEvent {}

    /** The whole thread group exited. */
    record Exit(long tsNs, int tgid, long startNs) implements KernelEvent {}

    /** A TCP socket reached CLOSE; its counters can be evicted after the next drain. */
    record Close(long tsNs, FlowKey key) implements KernelEvent {}

    /**
     * Domain evidence seen in the kernel: a DNS message a process received
     * ({@code dns}), or the first bytes a connecting TCP socket sent (TLS
     * ClientHello, HTTP request head). {@code data} may be shorter than
     * {@code origLen}. The key's process fields are zero when the socket's
     * owner was not known yet.
     */
    record Payload(long tsNs, FlowKey key, boolean dns, int origLen, byte[] data) implements KernelEvent {}

    /** libc getaddrinfo() returned these addresses for {@code name} in this process. */
    record Resolved(long tsNs, int tgid, long startNs, String name, java.util.List<java.net.InetAddress> addresses)
            implements KernelEvent {}
}

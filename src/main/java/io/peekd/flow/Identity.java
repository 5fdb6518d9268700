package io.peekd.flow;

/**
 * Who moved the bytes: the process and its parent, as stored with every row.
 * Any string may be null when it could not be learned; {@code sha256} may hold
 * a reason in the form {@code "error: ..."} when hashing failed.
 */
public record Identity(
        String exe, String name, String cmdline, String sha256, int pid,
        String pexe, String pname, String pcmdline, String psha256, int ppid,
        int uid, String user, String cgroup, String container) {
}

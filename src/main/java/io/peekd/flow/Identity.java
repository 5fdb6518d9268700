package io.peekd.flow;

/**
 * Who moved the bytes: the process and its parent, as stored with every row.
 * Any string may be null when it could not be learned; {@code sha256} may hold
 * a reason in the form {@code "error: ..."} when hashing failed.
 * {@code script} is the script or jar an interpreter runs (python3, node,
 * bash, perl, ruby, java -jar), with its own {@code scriptSha256}.
 */
public record Identity(
        String exe, String name, String cmdline, String sha256, int pid,
        String pexe, String pname, String pcmdline, String psha256, int ppid,
        int uid, String user, String cgroup, String container,
        String script, String scriptSha256) {

    /** An identity without a script (not an interpreter, or not known yet). */
    public Identity(String exe, String name, String cmdline, String sha256, int pid,
                    String pexe, String pname, String pcmdline, String psha256, int ppid,
                    int uid, String user, String cgroup, String container) {
        this(exe, name, cmdline, sha256, pid, pexe, pname, pcmdline, psha256, ppid, uid, user, cgroup, container,
                null, null);
    }

    /** The same process with hashes (and its script) filled in. */
    public Identity withHashes(String sha256, String psha256, String script, String scriptSha256) {
        return new Identity(exe, name, cmdline, sha256, pid, pexe, pname, pcmdline, psha256, ppid, uid, user,
                cgroup, container, script, scriptSha256);
    }
}

package io.peekd.rpc;

import jdk.net.UnixDomainPrincipal;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * Who is on the other end of the socket and what they may see. The kernel vouches for the
 * caller's uid and gid (SO_PEERCRED, taken at connect time), so nothing the client sends can
 * change the answer.
 *
 * <ul>
 *   <li>root sees everything and may run maintenance ({@code db checkpoint}, {@code vacuum});</li>
 *   <li>a member of the reader group (default {@code peekd}) sees every process;</li>
 *   <li>anyone else sees only the traffic of processes running under their own uid.</li>
 * </ul>
 *
 * @param uid      the caller's uid
 * @param name     the caller's user name, or the uid in decimal when it has none
 * @param seesAll  root or a member of the reader group
 */
record PeerAccess(int uid, String name, boolean seesAll) {

    boolean root() {
        return uid == 0;
    }

    /** The uid to restrict answers to, empty for callers who see everything. */
    OptionalInt onlyUid() {
        return seesAll ? OptionalInt.empty() : OptionalInt.of(uid);
    }

    /**
     * @param readerGroup the group whose members see all processes; empty for none
     * @return empty when the caller cannot be identified at all (then nothing is answered)
     */
    static Optional<PeerAccess> of(UnixDomainPrincipal p, String readerGroup, Accounts accounts) {
        String userName = p.user().getName();
        String groupName = p.group().getName();
        // The JDK names the user from the passwd database, or gives the number when there is no entry.
        OptionalInt numeric = Accounts.number(userName);
        Optional<Accounts.User> user = numeric.isPresent() ? accounts.user(numeric.getAsInt()) : accounts.user(userName);
        int uid;
        if (user.isPresent()) {
            uid = user.get().uid();
        } else if (numeric.isPresent()) {
            uid = numeric.getAsInt();
        } else {
            return Optional.empty();
        }
        if (uid == 0) {
            return Optional.of(new PeerAccess(0, user.map(Accounts.User::name).orElse("root"), true));
        }
        boolean member = false;
        if (readerGroup != null && !readerGroup.isEmpty()) {
            Optional<Accounts.Group> g = accounts.group(readerGroup);
            if (g.isPresent()) {
                int gid = g.get().gid();
                member = groupName.equals(readerGroup)
                        || Accounts.number(groupName).equals(OptionalInt.of(gid))
                        || user.isPresent() && (user.get().gid() == gid || g.get().members().contains(user.get().name()));
            }
        }
        return Optional.of(new PeerAccess(uid, user.map(Accounts.User::name).orElse(Integer.toString(uid)), member));
    }
}

package io.peekd.store;

import java.util.List;

/**
 * Keeps a name for every rollup identity as long as a rollup row refers to it.
 *
 * <p>The dashboard reads rollup rows as if they were the lowest {@code idents} row of their
 * identity, so that identity filters and joins to {@code exes} work unchanged. Retention
 * deletes the raw windows (and the idents rows only they referred to) long before the day
 * rollups, so that lowest row has to outlive its windows: pruning keeps it until the
 * identity's last day row is gone, then deletes it with the {@code rollup_idents} row.
 *
 * <p>Schema step 11 gives back a row to identities whose rows an older peekd had already
 * pruned, from the names {@code rollup_idents} kept; only the command lines and the cgroup
 * are lost there, as rollups never had them.
 */
final class RollupNames {

    private RollupNames() {
    }

    /** The idents rows retention may delete once the raw windows are gone: all but the lowest of each identity. */
    static final String PRUNE_IDENTS = "DELETE FROM idents WHERE NOT EXISTS (SELECT 1 FROM " + FlowTables.WINDOWS
            + " WHERE ident_id = idents.id) AND (rollup_id IS NULL"
            + " OR id > (SELECT min(j.id) FROM idents j WHERE j.rollup_id = idents.rollup_id))";

    /**
     * An identity no day row refers to any more: its idents rows without windows, then the
     * identity itself if no idents row is left (one with windows may have come meanwhile).
     * Both take the rollup identity's id.
     */
    static final List<String> PRUNE_IDENTITY = List.of(
            "DELETE FROM idents WHERE rollup_id = ? AND NOT EXISTS (SELECT 1 FROM " + FlowTables.WINDOWS
                    + " WHERE ident_id = idents.id)",
            "DELETE FROM rollup_idents WHERE id = ? AND NOT EXISTS (SELECT 1 FROM idents WHERE rollup_id = rollup_idents.id)");

    /** Executables no idents row names any more. */
    static final String PRUNE_EXES = "DELETE FROM exes WHERE NOT EXISTS (SELECT 1 FROM idents WHERE exe_id = exes.id)"
            + " AND NOT EXISTS (SELECT 1 FROM idents WHERE pexe_id = exes.id)"
            + " AND NOT EXISTS (SELECT 1 FROM idents WHERE script_id = exes.id)";

    private static final String NAMELESS = " FROM rollup_idents r WHERE NOT EXISTS (SELECT 1 FROM idents WHERE rollup_id = r.id)";

    private static String exeId(String path, String sha256) {
        return "(SELECT min(e.id) FROM exes e WHERE e.path IS nullif(" + path + ", '') AND e.sha256 IS nullif(" + sha256
                + ", ''))";
    }

    /** Schema step 11. The idents insert trigger links each new row to the identity it was made from. */
    static final List<String> MIGRATION = List.of(
            "INSERT INTO exes (path, sha256) SELECT DISTINCT nullif(x.p, ''), nullif(x.s, '') FROM (SELECT r.exe AS p,"
                    + " r.sha256 AS s" + NAMELESS + " UNION SELECT r.pexe, r.psha256" + NAMELESS + ") x"
                    + " WHERE " + exeId("x.p", "x.s") + " IS NULL",
            "INSERT INTO idents (exe_id, name, pexe_id, pname, uid, user, container) SELECT " + exeId("r.exe", "r.sha256")
                    + ", nullif(r.name, ''), " + exeId("r.pexe", "r.psha256") + ", nullif(r.pname, ''), r.uid,"
                    + " nullif(r.user, ''), nullif(r.container, '')" + NAMELESS + " ORDER BY r.id");
}

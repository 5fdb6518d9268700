package io.peekd.store;

import java.util.List;

/**
 * Schema step 10 (with {@link DestRollups#MIGRATION_10}): the pids each idents row had per
 * UTC day. The process tree counts distinct pids, which no sum can carry, and read them from
 * every raw window of the range: 1 M index entries, about 80 ms, for a month of the dashboard
 * benchmark. A day here is a row per (identity, pid), a few hundred.
 *
 * <p>Unlike the rollups it follows the raw windows: {@link BatchSql#prune} deletes every day
 * that starts before the raw cutoff, in the transaction that deletes the idents rows no window
 * uses any more (but for those the rollups are read as, see {@link RollupNames}), so no row
 * can outlive its idents row. Readers take the days that start at
 * or after the recorded cutoff ({@code pruned.flows} in meta) from here and anything earlier
 * from the windows, so a day that retention cut through is counted from what is left of it.
 */
final class PidDays {

    static final String TABLE = "day_pids";

    static final List<String> MIGRATION = List.of("""
                    CREATE TABLE %s (
                        bucket   INTEGER NOT NULL,
                        ident_id INTEGER NOT NULL,
                        pid      INTEGER NOT NULL,
                        PRIMARY KEY (bucket, ident_id, pid)
                    ) STRICT, WITHOUT ROWID""".formatted(TABLE),
            "INSERT INTO " + TABLE + " SELECT DISTINCT " + Rollups.bucket("time", Rollups.Level.DAY) + ", ident_id, pid"
                    + " FROM " + FlowTables.WINDOWS,
            // A merge into a stored window keeps its pid: inserts are all there is to follow.
            "CREATE TRIGGER " + FlowTables.WINDOWS + "_pids AFTER INSERT ON " + FlowTables.WINDOWS + " BEGIN\n"
                    + "    INSERT INTO " + TABLE + " (bucket, ident_id, pid) VALUES ("
                    + Rollups.bucket("NEW.time", Rollups.Level.DAY) + ", NEW.ident_id, NEW.pid) ON CONFLICT DO NOTHING;\n"
                    + "END");

    private PidDays() {
    }
}

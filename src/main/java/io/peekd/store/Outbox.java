package io.peekd.store;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;

/**
 * The queue of stored rows for the off-host mirror. Rows enter it in the same transaction
 * that stores them (a trigger, see {@link Rollups}), get a sequence number that is never
 * reused in this database, and leave it only when the server has committed them
 * ({@link #ack}). With the database's random id, {@code (db id, seq)} is a key that lets the
 * server drop a row it already has, so a row sent twice (crash between commit and ack)
 * is stored once.
 */
public final class Outbox {

    /** A queued row and its sequence number. */
    public record Entry(long seq, FlowRow row) {
    }

    private Outbox() {
    }

    static List<Entry> read(Connection c, long afterSeq, int limit) throws SQLException {
        List<Entry> out = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT seq, " + Rollups.OUTBOX_COLUMNS
                + " FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?")) {
            ps.setLong(1, afterSeq);
            ps.setInt(2, limit);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    Identity id = new Identity(rs.getString(3), rs.getString(4), rs.getString(5), rs.getString(6),
                            rs.getInt(7), rs.getString(8), rs.getString(9), rs.getString(10), rs.getString(11),
                            rs.getInt(12), rs.getInt(13), rs.getString(14), rs.getString(15), rs.getString(16));
                    FlowRow r = new FlowRow(Instant.ofEpochSecond(rs.getLong(2)), id, rs.getString(17), rs.getInt(18),
                            rs.getString(19), rs.getInt(20), rs.getString(21), rs.getInt(22), rs.getString(23),
                            rs.getString(24), rs.getString(25), rs.getLong(26), rs.getLong(27), rs.getLong(28));
                    out.add(new Entry(rs.getLong(1), r));
                }
            }
        }
        return out;
    }

    static String dbId(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT value FROM meta WHERE key = '" + Rollups.DB_ID_KEY + "'")) {
            if (!rs.next()) {
                throw new StoreException("the database has no id (meta table damaged?)");
            }
            return rs.getString(1);
        }
    }

    /** Removes every entry up to {@code seq}, on the writer thread; completes with the number removed. */
    public static CompletableFuture<Integer> ack(Writer w, long seq) {
        return w.task("acknowledge mirrored rows", c -> {
            try (PreparedStatement ps = c.prepareStatement("DELETE FROM outbox WHERE seq <= ?")) {
                ps.setLong(1, seq);
                return ps.executeUpdate();
            }
        });
    }
}

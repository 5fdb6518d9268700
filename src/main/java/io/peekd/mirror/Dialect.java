package io.peekd.mirror;

import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;

/**
 * What differs between PostgreSQL and MariaDB/MySQL: the URL, quoting, the time type and how
 * an insert skips a row the server already has. The columns are the stable JSON field names
 * plus {@code ppid} and {@code cgroup}, with {@code host}, {@code source_db} and {@code seq}
 * in front as the idempotent key.
 */
enum Dialect {
    POSTGRESQL("org.postgresql.Driver", '"'),
    MARIADB("org.mariadb.jdbc.Driver", '`');

    static final List<String> COLUMNS = List.of("host", "source_db", "seq", "time", "exe", "name", "cmdline", "sha256",
            "pid", "pexe", "pname", "pcmdline", "psha256", "ppid", "uid", "user", "cgroup", "container", "proto",
            "family", "laddr", "lport", "raddr", "rport", "domain", "domain_source", "domain_confidence", "sent", "recv",
            "conns");

    final String driver;
    private final char quote;

    Dialect(String driver, char quote) {
        this.driver = driver;
        this.quote = quote;
    }

    static Dialect of(String type) {
        return switch (type) {
            case "postgresql" -> POSTGRESQL;
            case "mariadb", "mysql" -> MARIADB;
            default -> throw new IllegalArgumentException("no mirror dialect for \"" + type + "\"");
        };
    }

    String url(String host, int port, String database) {
        String h = host.contains(":") && !host.startsWith("[") ? "[" + host + "]" : host;
        return switch (this) {
            // Timeouts in seconds: a server that vanishes mid-transaction must not hang the mirror.
            case POSTGRESQL -> "jdbc:postgresql://" + h + ":" + port + "/" + database
                    + "?connectTimeout=5&socketTimeout=60&tcpKeepAlive=true&ApplicationName=peekd";
            // MariaDB Connector/J speaks to MySQL servers too; timeouts in milliseconds.
            case MARIADB -> "jdbc:mariadb://" + h + ":" + port + "/" + database
                    + "?connectTimeout=5000&socketTimeout=60000&tcpKeepAlive=true";
        };
    }

    String q(String name) {
        return quote + name + quote;
    }

    String createTable(String table) {
        String time = this == POSTGRESQL ? "TIMESTAMP WITH TIME ZONE" : "DATETIME";
        String text = "TEXT";
        String sql = "CREATE TABLE IF NOT EXISTS " + q(table) + " ("
                + q("host") + " VARCHAR(255) NOT NULL, "
                + q("source_db") + " CHAR(32) NOT NULL, "
                + q("seq") + " BIGINT NOT NULL, "
                + q("time") + " " + time + " NOT NULL, "
                + q("exe") + " " + text + ", " + q("name") + " " + text + ", " + q("cmdline") + " " + text + ", "
                + q("sha256") + " " + text + ", " + q("pid") + " INTEGER NOT NULL, "
                + q("pexe") + " " + text + ", " + q("pname") + " " + text + ", " + q("pcmdline") + " " + text + ", "
                + q("psha256") + " " + text + ", " + q("ppid") + " INTEGER NOT NULL, "
                + q("uid") + " BIGINT NOT NULL, " + q("user") + " " + text + ", " + q("cgroup") + " " + text + ", "
                + q("container") + " " + text + ", " + q("proto") + " " + text + ", "
                + q("family") + " SMALLINT NOT NULL, " + q("laddr") + " " + text + ", " + q("lport") + " INTEGER NOT NULL, "
                + q("raddr") + " " + text + ", " + q("rport") + " INTEGER NOT NULL, " + q("domain") + " " + text + ", "
                + q("domain_source") + " " + text + ", " + q("domain_confidence") + " " + text + ", "
                + q("sent") + " BIGINT NOT NULL, " + q("recv") + " BIGINT NOT NULL, " + q("conns") + " BIGINT NOT NULL, "
                + "PRIMARY KEY (" + q("host") + ", " + q("source_db") + ", " + q("seq") + "))";
        return this == MARIADB ? sql + " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" : sql;
    }

    /** An insert that does nothing for a key the server already has: delivery is exactly once. */
    String insert(String table) {
        StringBuilder cols = new StringBuilder(), marks = new StringBuilder();
        for (String c : COLUMNS) {
            cols.append(cols.isEmpty() ? "" : ", ").append(q(c));
            marks.append(marks.isEmpty() ? "?" : ", ?");
        }
        String sql = "INSERT INTO " + q(table) + " (" + cols + ") VALUES (" + marks + ")";
        return switch (this) {
            case POSTGRESQL -> sql + " ON CONFLICT (" + q("host") + ", " + q("source_db") + ", " + q("seq") + ") DO NOTHING";
            // Unlike INSERT IGNORE this ignores only the duplicate key, not bad data.
            case MARIADB -> sql + " ON DUPLICATE KEY UPDATE " + q("seq") + " = " + q("seq");
        };
    }

    void bind(PreparedStatement ps, String host, String sourceDb, long seq, FlowRow r) throws SQLException {
        Identity id = r.id();
        int i = 1;
        ps.setString(i++, host);
        ps.setString(i++, sourceDb);
        ps.setLong(i++, seq);
        ps.setObject(i++, time(r.time()));
        text(ps, i++, id.exe());
        text(ps, i++, id.name());
        text(ps, i++, id.cmdline());
        text(ps, i++, id.sha256());
        ps.setInt(i++, id.pid());
        text(ps, i++, id.pexe());
        text(ps, i++, id.pname());
        text(ps, i++, id.pcmdline());
        text(ps, i++, id.psha256());
        ps.setInt(i++, id.ppid());
        ps.setLong(i++, Integer.toUnsignedLong(id.uid()));
        text(ps, i++, id.user());
        text(ps, i++, id.cgroup());
        text(ps, i++, id.container());
        text(ps, i++, r.proto());
        ps.setInt(i++, r.family());
        text(ps, i++, r.laddr());
        ps.setInt(i++, r.lport());
        text(ps, i++, r.raddr());
        ps.setInt(i++, r.rport());
        text(ps, i++, r.domain());
        text(ps, i++, r.domainSource());
        text(ps, i++, r.domainConfidence());
        ps.setLong(i++, r.sent());
        ps.setLong(i++, r.recv());
        ps.setLong(i, r.conns());
    }

    /** UTC on both: PostgreSQL gets an offset, MariaDB's DATETIME has none and holds the UTC wall time. */
    private Object time(Instant t) {
        return this == POSTGRESQL ? OffsetDateTime.ofInstant(t, ZoneOffset.UTC) : LocalDateTime.ofInstant(t, ZoneOffset.UTC);
    }

    private static void text(PreparedStatement ps, int i, String s) throws SQLException {
        if (s == null) {
            ps.setNull(i, Types.VARCHAR);
        } else {
            // PostgreSQL text cannot hold NUL; a process may put one in its name.
            ps.setString(i, s.indexOf('\0') >= 0 ? s.replace('\0', '?') : s);
        }
    }
}

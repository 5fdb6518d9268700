package io.peekd.web;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * A dimension rows can be grouped or filtered by (picosnitch's "group by anything"). Each
 * maps a public name to a fixed SQL expression, so no request text ever becomes SQL.
 */
enum Dim {
    EXE("e.path", false),
    NAME("i.name", false),
    CMDLINE("i.cmdline", false),
    SHA256("e.sha256", false),
    PEXE("pe.path", false),
    PNAME("i.pname", false),
    PCMDLINE("i.pcmdline", false),
    PSHA256("pe.sha256", false),
    PID("f.pid", true),
    UID("i.uid", true),
    USER("i.user", false),
    CONTAINER("i.container", false),
    PROTO("f.proto", false),
    FAMILY("f.family", true),
    LADDR("f.laddr", false),
    LPORT("f.lport", true),
    RADDR("f.raddr", false),
    RPORT("f.rport", true),
    DOMAIN("f.domain", false);

    final String sql;
    final boolean numeric;

    Dim(String sql, boolean numeric) {
        this.sql = sql;
        this.numeric = numeric;
    }

    /** A column of the flows table itself, rather than of the process identity it points to. */
    boolean flow() {
        return sql.startsWith("f.");
    }

    /** The name used in URLs and JSON. */
    String key() {
        return name().toLowerCase(Locale.ROOT);
    }

    static final String NAMES = Arrays.stream(values()).map(Dim::key).collect(Collectors.joining(", "));

    static Dim parse(String s, String param) {
        try {
            return valueOf(s.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new BadRequest(param + ": unknown dimension \"" + s + "\"; use one of " + NAMES);
        }
    }

    /** "parent" is picosnitch's word for the parent executable. */
    static Dim parseAlias(String s, String param) {
        return "parent".equalsIgnoreCase(s.strip()) ? PEXE : parse(s, param);
    }
}

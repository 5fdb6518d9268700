package io.peekd.alert;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The values of one fired alert, by placeholder name. Most of them come from the
 * network or from the process (a DNS name, a command line), so they are
 * attacker-controlled: they only ever reach a command as whole argv elements or
 * environment variables, never through a shell.
 */
public record AlertValues(Map<String, String> map) {

    /** Every placeholder, in the order they are documented; {@code PEEKD_<NAME>} is the environment variable. */
    public static final List<String> NAMES = List.of("rule", "event", "time", "exe", "name", "cmdline", "sha256",
            "pid", "pexe", "pname", "pcmdline", "psha256", "ppid", "uid", "user", "container", "proto", "family",
            "laddr", "lport", "raddr", "rport", "domain", "sent", "recv", "conns", "flags", "error", "suppressed");

    public AlertValues {
        map = Collections.unmodifiableMap(new LinkedHashMap<>(map));
    }

    /** The value of a placeholder; an unknown value is the empty string, as an unset variable would be. */
    public String get(String name) {
        String v = map.get(name);
        return v == null ? "" : v;
    }

    AlertValues with(String name, String value) {
        Map<String, String> m = new LinkedHashMap<>(map);
        m.put(name, value);
        return new AlertValues(m);
    }

    static String envName(String placeholder) {
        return "PEEKD_" + placeholder.toUpperCase(Locale.ROOT);
    }

    /** The environment an exec action gets for these values (every placeholder, even empty ones). */
    Map<String, String> environment() {
        Map<String, String> env = new LinkedHashMap<>();
        for (String n : NAMES) env.put(envName(n), argSafe(get(n)));
        return env;
    }

    /**
     * argv elements and environment values are C strings: a NUL would cut them (the JDK refuses
     * them outright), so it becomes U+FFFD. Everything else passes through byte for byte.
     */
    static String argSafe(String s) {
        return s.indexOf('\0') < 0 ? s : s.replace('\0', '\uFFFD');
    }

    static AlertValues of(String rule, String event, Instant time, FlowRow row, int flags, String error,
                          long suppressed) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("rule", rule);
        m.put("event", event);
        m.put("time", time.truncatedTo(ChronoUnit.MILLIS).toString());
        if (row != null) {
            Identity id = row.id();
            if (id != null) {
                m.put("exe", id.exe());
                m.put("name", id.name());
                m.put("cmdline", id.cmdline());
                m.put("sha256", id.sha256());
                m.put("pid", Integer.toString(id.pid()));
                m.put("pexe", id.pexe());
                m.put("pname", id.pname());
                m.put("pcmdline", id.pcmdline());
                m.put("psha256", id.psha256());
                m.put("ppid", Integer.toString(id.ppid()));
                m.put("uid", Integer.toString(id.uid()));
                m.put("user", id.user());
                m.put("container", id.container());
            }
            m.put("proto", row.proto());
            m.put("family", Integer.toString(row.family()));
            m.put("laddr", row.laddr());
            m.put("lport", row.lport() < 0 ? null : Integer.toString(row.lport()));
            m.put("raddr", row.raddr());
            m.put("rport", row.rport() < 0 ? null : Integer.toString(row.rport()));
            m.put("domain", row.domain());
            m.put("sent", Long.toString(row.sent()));
            m.put("recv", Long.toString(row.recv()));
            m.put("conns", Long.toString(row.conns()));
            m.put("flags", ExeFlags.describe(flags));
        }
        m.put("error", error);
        m.put("suppressed", Long.toString(suppressed));
        m.values().removeIf(java.util.Objects::isNull);
        return new AlertValues(m);
    }

    /** One line for logs and notifications: control characters escaped so a hostile value cannot forge lines. */
    String summary() {
        StringBuilder sb = new StringBuilder(get("rule")).append(": ");
        if (!get("error").isEmpty()) return printable(sb.append("error: ").append(get("error")).toString());
        sb.append(get("exe").isEmpty() ? get("name") : get("exe"));
        if (!get("raddr").isEmpty()) sb.append(" -> ").append(get("raddr")).append(get("rport").isEmpty() ? "" : ":" + get("rport"));
        if (!get("domain").isEmpty()) sb.append(" (").append(get("domain")).append(')');
        if (!"flow".equals(get("event"))) sb.append(" [").append(get("event")).append(']');
        return printable(sb.toString());
    }

    static String printable(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        s.codePoints().forEach(c -> {
            if (Character.isISOControl(c) || c == 0x2028 || c == 0x2029) sb.append(String.format("\\x%02x", c & 0xff));
            else sb.appendCodePoint(c);
        });
        return sb.toString();
    }
}

package io.peekd.tui;

import java.util.Locale;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;

/**
 * One tab of {@code peekd view}: what the stored rows are grouped by. Each knows the SQL
 * expression of its key over {@code flows f, idents i, exes e (exe), exes pe (parent exe)}
 * and how to name a key on screen. The order is the tab order.
 */
public enum Dimension {
    EXE("exe", "EXECUTABLE", "e.path", "(unknown)"),
    NAME("name", "NAME", "i.name", "(unknown)"),
    CMDLINE("cmdline", "COMMAND", "i.cmdline", "(unknown)"),
    SHA256("sha256", "SHA256", "e.sha256", "(none)"),
    PEXE("pexe", "PARENT EXECUTABLE", "pe.path", "(unknown)"),
    PNAME("pname", "PARENT NAME", "i.pname", "(unknown)"),
    PCMDLINE("pcmdline", "PARENT COMMAND", "i.pcmdline", "(unknown)"),
    PSHA256("psha256", "PARENT SHA256", "pe.sha256", "(none)"),
    /** Grouped by uid, so that a renamed or deleted account still adds up; shown with its name. */
    USER("user", "USER", "i.uid", "(unknown)"),
    LPORT("lport", "LOCAL PORT", "f.lport", "(none)"),
    RPORT("rport", "REMOTE PORT", "f.rport", "(none)"),
    LADDR("laddr", "LOCAL ADDRESS", "f.laddr", "(none)"),
    RADDR("raddr", "REMOTE ADDRESS", "f.raddr", "(none)"),
    DOMAIN("domain", "DOMAIN", "f.domain", "(none)"),
    CONTAINER("container", "CONTAINER", "i.container", "(host)"),
    /** Grouped by time buckets whose width follows the range shown; see {@link Buckets}. */
    TIME("time", "TIME", null, "(none)");

    private final String id;
    private final String title;
    private final String column;
    private final String nullLabel;

    Dimension(String id, String title, String column, String nullLabel) {
        this.id = id;
        this.title = title;
        this.column = column;
        this.nullLabel = nullLabel;
    }

    /** Short name used on the tab bar, in filters and by {@code --tab}. */
    public String id() {
        return id;
    }

    /** Column heading. */
    String title() {
        return title;
    }

    /** SQL expression of the key; not for {@link #TIME}, whose key depends on the bucket width. */
    String column() {
        if (this == TIME) {
            throw new IllegalStateException("time keys are buckets");
        }
        return column;
    }

    /**
     * The key of a row the daemon has not stored yet, as {@link #column()} reads it back once
     * stored (a Long for integer columns, the text as is, null for null), so that its bytes
     * land on the same entry as the stored rows'. Not for {@link #TIME}, whose key depends on
     * the bucket width.
     */
    Object key(FlowRow r) {
        Identity id = r.id();
        return switch (this) {
            case EXE -> id == null ? null : id.exe();
            case NAME -> id == null ? null : id.name();
            case CMDLINE -> id == null ? null : id.cmdline();
            case SHA256 -> id == null ? null : id.sha256();
            case PEXE -> id == null ? null : id.pexe();
            case PNAME -> id == null ? null : id.pname();
            case PCMDLINE -> id == null ? null : id.pcmdline();
            case PSHA256 -> id == null ? null : id.psha256();
            case USER -> id == null ? null : (Object) (long) id.uid();
            case LPORT -> (long) r.lport();
            case RPORT -> (long) r.rport();
            case LADDR -> r.laddr();
            case RADDR -> r.raddr();
            case DOMAIN -> r.domain();
            case CONTAINER -> id == null ? null : id.container();
            case TIME -> throw new IllegalStateException("time keys are buckets");
        };
    }

    /** Integer keys (ports, uid, time) compare as numbers; the rest are text. */
    boolean numeric() {
        return this == USER || this == LPORT || this == RPORT || this == TIME;
    }

    /** Hashes get a verdict column, addresses a country column. */
    Annotation annotation() {
        return switch (this) {
            case SHA256, PSHA256 -> Annotation.VERDICT;
            case LADDR, RADDR -> Annotation.COUNTRY;
            default -> Annotation.NONE;
        };
    }

    /** What a missing value means for this dimension, e.g. "(host)" for no container. */
    String nullLabel() {
        return nullLabel;
    }

    Dimension next() {
        Dimension[] all = values();
        return all[(ordinal() + 1) % all.length];
    }

    Dimension previous() {
        Dimension[] all = values();
        return all[(ordinal() + all.length - 1) % all.length];
    }

    /** Parses a tab name as {@code --tab} takes it: the id, case-insensitive. */
    public static Dimension parse(String s) {
        String want = s.trim().toLowerCase(Locale.ROOT);
        for (Dimension d : values()) {
            if (d.id.equals(want)) {
                return d;
            }
        }
        throw new IllegalArgumentException("unknown tab \"" + s + "\"; one of " + ids());
    }

    static String ids() {
        StringBuilder sb = new StringBuilder();
        for (Dimension d : values()) {
            if (!sb.isEmpty()) {
                sb.append(", ");
            }
            sb.append(d.id);
        }
        return sb.toString();
    }

    /** The extra column a tab shows, filled by an {@link Annotator} when that data exists. */
    enum Annotation {
        NONE(null), VERDICT("VERDICT"), COUNTRY("COUNTRY");

        final String title;

        Annotation(String title) {
            this.title = title;
        }
    }
}

package io.peekd.domain;

import java.net.IDN;
import java.util.Locale;

/**
 * Canonical form of domain names seen on the wire or written in config:
 * lower-case ASCII (IDN labels in punycode), no trailing dot, every label valid.
 * Two spellings of the same name must compare equal, or ignore rules and the
 * IP-to-name cache would miss.
 */
public final class DomainNames {

    static final int MAX_NAME = 253;
    static final int MAX_LABEL = 63;
    /** Refuse before running IDN conversion on absurd input. */
    private static final int MAX_INPUT = 1024;

    private DomainNames() {
    }

    /** The canonical form of {@code name}, or the reason it is not a usable domain name. */
    public static ParseResult<String> normalize(String name) {
        try {
            return new ParseResult.Parsed<>(canonical(name));
        } catch (Malformed m) {
            return m.toResult();
        } catch (RuntimeException e) {
            return new ParseResult.Rejected<>(RejectReason.INTERNAL_ERROR, e.toString());
        }
    }

    /** Whether {@code name} is already in canonical form. */
    public static boolean isCanonical(String name) {
        return normalize(name) instanceof ParseResult.Parsed<String>(String c) && c.equals(name);
    }

    /**
     * Label-wise suffix match on canonical names: {@code example.com} matches itself and
     * {@code a.example.com}, never {@code badexample.com}. Inputs are normalised first;
     * an invalid name matches nothing.
     */
    public static boolean matchesSuffix(String name, String suffix) {
        if (!(normalize(name) instanceof ParseResult.Parsed<String>(String n))) return false;
        if (!(normalize(suffix) instanceof ParseResult.Parsed<String>(String s))) return false;
        return n.equals(s) || n.endsWith(s) && n.charAt(n.length() - s.length() - 1) == '.';
    }

    /** Throwing form for the parsers in this package. */
    static String canonical(String name) {
        if (name == null || name.isEmpty()) throw invalid("empty name");
        if (name.length() > MAX_INPUT) throw invalid("name of " + name.length() + " characters");
        String ascii = name;
        if (!isAscii(name)) {
            try {
                // Flag 0: STD3 rules would also forbid '_', which real DNS names use.
                ascii = IDN.toASCII(name, 0);
            } catch (IllegalArgumentException e) {
                throw invalid("IDN conversion failed: " + e.getMessage());
            }
        }
        ascii = ascii.toLowerCase(Locale.ROOT);
        if (ascii.endsWith(".")) ascii = ascii.substring(0, ascii.length() - 1);
        if (ascii.isEmpty()) throw invalid("root name");
        if (ascii.length() > MAX_NAME) throw invalid("name longer than " + MAX_NAME);
        String[] labels = ascii.split("\\.", -1);
        for (String label : labels) checkLabel(label, ascii);
        String last = labels[labels.length - 1];
        // No TLD is all digits; such a "name" is an IP literal or garbage, not a domain.
        if (last.chars().allMatch(c -> c >= '0' && c <= '9')) throw invalid("numeric top-level label in " + quote(ascii));
        return ascii;
    }

    private static void checkLabel(String label, String name) {
        if (label.isEmpty()) throw invalid("empty label in " + quote(name));
        if (label.length() > MAX_LABEL) throw invalid("label longer than " + MAX_LABEL + " in " + quote(name));
        for (int i = 0; i < label.length(); i++) {
            char c = label.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_';
            if (!ok) throw invalid("character " + describe(c) + " in " + quote(name));
        }
        if (label.charAt(0) == '-' || label.charAt(label.length() - 1) == '-') {
            throw invalid("label starts or ends with '-' in " + quote(name));
        }
        if (label.startsWith("xn--") && IDN.toUnicode(label, 0).equals(label)) {
            throw invalid("bad punycode label in " + quote(name));
        }
    }

    private static boolean isAscii(String s) {
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) >= 0x80) return false;
        return true;
    }

    private static String describe(char c) {
        return c >= 0x21 && c < 0x7f ? "'" + c + "'" : String.format("U+%04X", (int) c);
    }

    /** Quotes a name for an error message, escaping anything unprintable and cutting it short. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < s.length() && i < 80; i++) {
            char c = s.charAt(i);
            if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\') b.append(c);
            else b.append(String.format("\\u%04x", (int) c));
        }
        if (s.length() > 80) b.append("...");
        return b.append('"').toString();
    }

    private static Malformed invalid(String detail) {
        return new Malformed(RejectReason.INVALID_NAME, detail);
    }
}

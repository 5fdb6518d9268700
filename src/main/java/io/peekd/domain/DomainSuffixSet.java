package io.peekd.domain;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * A set of domain suffixes for ignore rules, matched label by label from the right:
 * {@code example.com} covers {@code a.example.com} but not {@code badexample.com}.
 * A lookup costs one hash probe per label of the queried name, whatever the set size.
 */
public final class DomainSuffixSet {

    private final Set<String> suffixes;
    private final List<String> errors;

    private DomainSuffixSet(Set<String> suffixes, List<String> errors) {
        this.suffixes = Set.copyOf(suffixes);
        this.errors = List.copyOf(errors);
    }

    /**
     * Builds the set from config entries. Entries may carry surrounding blanks and a
     * leading dot ({@code ".example.com"}). Invalid entries are left out and explained in
     * {@link #errors()}, so one typo does not disable the whole list.
     */
    public static DomainSuffixSet of(Collection<String> entries) {
        Set<String> ok = new HashSet<>();
        List<String> bad = new ArrayList<>();
        for (String raw : entries) {
            String e = raw == null ? "" : raw.strip();
            if (e.startsWith(".")) e = e.substring(1);
            switch (DomainNames.normalize(e)) {
                case ParseResult.Parsed<String>(String name) -> ok.add(name);
                case ParseResult.Rejected<String>(RejectReason r, String detail) ->
                        bad.add("ignored domain entry " + DomainNames.quote(raw == null ? "" : raw) + ": " + detail);
            }
        }
        return new DomainSuffixSet(ok, bad);
    }

    /** Whether {@code name} equals or lies under one of the suffixes; invalid names match nothing. */
    public boolean matches(String name) {
        return matchingSuffix(name) != null;
    }

    /** The longest suffix in the set that covers {@code name}, or null. */
    public String matchingSuffix(String name) {
        if (suffixes.isEmpty()) return null;
        if (!(DomainNames.normalize(name) instanceof ParseResult.Parsed<String>(String n))) return null;
        int i = 0;
        while (true) {
            String candidate = n.substring(i);
            if (suffixes.contains(candidate)) return candidate;
            int dot = n.indexOf('.', i);
            if (dot < 0) return null;
            i = dot + 1;
        }
    }

    public Set<String> suffixes() {
        return suffixes;
    }

    /** One message per config entry that was left out. */
    public List<String> errors() {
        return errors;
    }
}

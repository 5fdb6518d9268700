package io.peekd.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.peekd.config.ConfigException.Kind;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.SequencedSet;

/**
 * Reads the keys of one {@code [section]}. A bad value is reported and replaced by
 * its default so that reading goes on and every problem is found in one pass; the
 * loader then refuses the whole file, so the defaults never take effect silently.
 */
final class Section {

    private final List<String> path;
    private final String name;
    private final ObjectNode node;
    private final Binder binder;
    private final SequencedSet<String> known = new LinkedHashSet<>();

    Section(String name, ObjectNode node, Binder binder) {
        this(List.of(name), node, binder);
    }

    /** A nested table such as {@code [database.server]}, at {@code path} ("database", "server"). */
    Section(List<String> path, ObjectNode node, Binder binder) {
        this.path = List.copyOf(path);
        this.name = String.join(".", path);
        this.node = node == null ? JsonNodeFactory.instance.objectNode() : node;
        this.binder = binder;
    }

    private List<String> keyPath(String key) {
        var p = new ArrayList<>(path);
        p.add(key);
        return p;
    }

    String name() {
        return name;
    }

    /** Every key that this section reads, in the order read. */
    SequencedSet<String> known() {
        return known;
    }

    <T> T get(String key, T fallback, Conv<T> conv) {
        return optional(key, conv).orElse(fallback);
    }

    <T> Optional<T> optional(String key, Conv<T> conv) {
        known.add(key);
        JsonNode v = node.get(key);
        if (v == null) {
            return Optional.empty();
        }
        return Optional.ofNullable(convert(v, key, -1, conv));
    }

    <T> List<T> list(String key, List<T> fallback, Conv<T> conv) {
        known.add(key);
        JsonNode v = node.get(key);
        if (v == null) {
            return fallback;
        }
        if (!v.isArray()) {
            binder.report(Kind.WRONG_TYPE, keyPath(key), -1,
                    "expected an array, each element " + conv.expected() + ", got " + Binder.describe(v));
            return fallback;
        }
        var out = new ArrayList<T>(v.size());
        boolean ok = true;
        for (int i = 0; i < v.size(); i++) {
            T t = convert(v.get(i), key, i, conv);
            ok &= t != null;
            out.add(t);
        }
        return ok ? out : fallback;
    }

    private <T> T convert(JsonNode v, String key, int element, Conv<T> conv) {
        var path = keyPath(key);
        try {
            return conv.fn().apply(v, new Conv.Slot(path, element, binder.index()));
        } catch (Conv.Invalid e) {
            String got = e.shown != null ? e.shown : Binder.describe(v);
            String detail = "expected " + conv.expected() + ", got " + got + (e.reason == null ? "" : " (" + e.reason + ")");
            binder.report(e.kind, path, element, detail);
            return null;
        }
    }
}

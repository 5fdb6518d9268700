package io.peekd.web;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The query string of a request, decoded, with checks that name the parameter at fault. */
final class Params {
    private final Map<String, List<String>> values;

    private Params(Map<String, List<String>> values) {
        this.values = values;
    }

    static Params of(URI uri) {
        Map<String, List<String>> m = new LinkedHashMap<>();
        String q = uri.getRawQuery();
        if (q != null && !q.isEmpty()) {
            if (q.length() > 8192) throw new BadRequest("query string longer than 8192 characters");
            for (String pair : q.split("&")) {
                if (pair.isEmpty()) continue;
                int eq = pair.indexOf('=');
                String k = decode(eq < 0 ? pair : pair.substring(0, eq));
                String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
                m.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
            }
        }
        return new Params(m);
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new BadRequest("badly encoded query string: " + e.getMessage());
        }
    }

    /** Refuses parameters this endpoint does not know, so that a typo is not silently ignored. */
    void allowOnly(Set<String> known) {
        for (String k : values.keySet()) {
            if (!known.contains(k)) {
                throw new BadRequest("unknown parameter \"" + k + "\"; this endpoint takes " + String.join(", ", known));
            }
        }
    }

    Set<String> names() {
        return values.keySet();
    }

    List<String> all(String name) {
        return values.getOrDefault(name, List.of());
    }

    String one(String name) {
        List<String> v = all(name);
        if (v.size() > 1) throw new BadRequest(name + ": given " + v.size() + " times; give it once");
        return v.isEmpty() ? null : v.getFirst();
    }

    int integer(String name, int dflt, int min, int max) {
        String v = one(name);
        if (v == null || v.isEmpty()) return dflt;
        try {
            int n = Integer.parseInt(v.strip());
            if (n < min || n > max) throw new NumberFormatException();
            return n;
        } catch (NumberFormatException e) {
            throw new BadRequest(name + ": expected an integer " + min + ".." + max + ", got \"" + v + "\"");
        }
    }
}

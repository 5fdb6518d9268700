package io.peekd.alert;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Which executable has talked to which domain, for {@code on_new_domain}. Seeded from the
 * stored history at start, so a restart does not make every pair new again; bounded, the
 * least recently seen pairs being forgotten first.
 */
final class SeenPairs {
    private final LinkedHashMap<String, Boolean> seen;

    SeenPairs(int capacity) {
        this.seen = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Boolean> e) {
                return size() > capacity;
            }
        };
    }

    /** Records the pair; true when it was not known. */
    synchronized boolean add(String exe, String domain) {
        String key = exe + '\0' + Criteria.Domains.normalize(domain);
        return seen.put(key, Boolean.TRUE) == null;
    }

    synchronized int size() {
        return seen.size();
    }
}

package io.peekd.store;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Row ids of exes or idents already in the database, so that a steady stream of the same
 * processes costs no lookups. Ids learned inside a transaction are staged and only become
 * visible to later transactions on commit: after a rollback those rows do not exist, and a
 * cached id would point the next attempt at nothing.
 */
final class IdCache<K> {

    private final Map<K, Long> committed;
    private final Map<K, Long> staged = new HashMap<>();

    IdCache(int capacity) {
        this.committed = new LinkedHashMap<>(Math.min(capacity, 1024), 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, Long> eldest) {
                return size() > capacity;
            }
        };
    }

    Long get(K key) {
        Long id = staged.get(key);
        return id != null ? id : committed.get(key);
    }

    void stage(K key, long id) {
        staged.put(key, id);
    }

    void commit() {
        committed.putAll(staged);
        staged.clear();
    }

    void rollback() {
        staged.clear();
    }

    void clear() {
        committed.clear();
        staged.clear();
    }
}

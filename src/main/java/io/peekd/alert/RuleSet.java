package io.peekd.alert;

import io.peekd.flow.FlowRow;
import io.peekd.flow.Identity;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The loaded rules, indexed so that a row is checked only against rules that can match it.
 * Each enabled flow rule sits in exactly one index, under its most selective exact field
 * (sha256, then exe, then process name, then remote port); rules with none of these are
 * checked against every row. A row looks up one bucket per index, so matching a batch is
 * one pass over its rows, whatever the number of rules.
 */
final class RuleSet {
    static final RuleSet EMPTY = new RuleSet(List.of());

    private final List<Rule> rules;
    private final Map<String, List<Rule>> bySha = new HashMap<>();
    private final Map<String, List<Rule>> byExe = new HashMap<>();
    private final Map<String, List<Rule>> byName = new HashMap<>();
    private final Map<Integer, List<Rule>> byRport = new HashMap<>();
    private final List<Rule> scan = new ArrayList<>();
    private final List<Rule> onError = new ArrayList<>();
    private final boolean newDomain;

    RuleSet(List<Rule> rules) {
        this.rules = List.copyOf(rules);
        boolean nd = false;
        for (Rule r : this.rules) {
            if (!r.enabled()) continue;
            nd |= r.events().newDomain();
            if (r.events().error()) {
                onError.add(r);
                continue;
            }
            Criteria c = r.criteria();
            List<Integer> ports = c.rport() == null ? null : c.rport().singles();
            if (c.sha256() != null) c.sha256().forEach(v -> add(bySha, v, r));
            else if (c.exe() != null && c.exe().allExact()) c.exe().exact().forEach(v -> add(byExe, v, r));
            else if (c.processName() != null && c.processName().allExact()) c.processName().exact().forEach(v -> add(byName, v, r));
            else if (ports != null) ports.forEach(p -> add(byRport, p, r));
            else scan.add(r);
        }
        this.newDomain = nd;
    }

    private static <K> void add(Map<K, List<Rule>> index, K key, Rule r) {
        index.computeIfAbsent(key, k -> new ArrayList<>(2)).add(r);
    }

    List<Rule> rules() {
        return rules;
    }

    List<Rule> errorRules() {
        return onError;
    }

    boolean usesNewDomain() {
        return newDomain;
    }

    /** The rules that may match {@code r}; each at most once. Matching itself is the caller's. */
    void candidates(FlowRow r, Consumer<Rule> out) {
        Identity id = r.id();
        if (id != null) {
            if (!bySha.isEmpty() && id.sha256() != null) each(bySha.get(id.sha256().toLowerCase(java.util.Locale.ROOT)), out);
            if (!byExe.isEmpty() && id.exe() != null) each(byExe.get(id.exe()), out);
            if (!byName.isEmpty() && id.name() != null) each(byName.get(id.name()), out);
        }
        if (!byRport.isEmpty()) each(byRport.get(r.rport()), out);
        scan.forEach(out);
    }

    private static void each(List<Rule> rules, Consumer<Rule> out) {
        if (rules != null) rules.forEach(out);
    }
}

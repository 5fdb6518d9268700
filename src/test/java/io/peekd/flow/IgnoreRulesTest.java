package io.peekd.flow;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class IgnoreRulesTest {
    private static final Identity ID = new Identity("/usr/bin/curl", "curl", null, "ab".repeat(32), 1, null, null, null,
            null, 0, 0, "root", null, null);

    private static FlowRow row(String raddr, int lport, int rport, String domain) {
        return new FlowRow(Instant.EPOCH, ID, "tcp", raddr.contains(":") ? 6 : 4, "10.0.0.1", lport, raddr, rport, domain,
                null, null, 1, 1, 1);
    }

    @Test
    void portsAreMatchedAsPortsNotNetworks() {
        IgnoreRules r = new IgnoreRules(List.of(53), List.of(), List.of(), List.of());
        assertThat(r.ignores(row("192.0.2.1", 40000, 53, null))).isTrue();
        assertThat(r.ignores(row("192.0.2.1", 40000, 443, null))).isFalse();
        assertThat(r.ignores(row("0.0.0.53", 40000, 443, null))).isFalse();
    }

    @Test
    void domainsMatchThemselvesAndSubdomainsOnly() {
        IgnoreRules r = new IgnoreRules(List.of(), List.of("example.com"), List.of(), List.of());
        assertThat(r.ignores(row("192.0.2.1", 1, 443, "example.com"))).isTrue();
        assertThat(r.ignores(row("192.0.2.1", 1, 443, "a.b.EXAMPLE.com."))).isTrue();
        assertThat(r.ignores(row("192.0.2.1", 1, 443, "badexample.com"))).isFalse();
    }

    @Test
    void cidrBlocksForBothFamilies() {
        IgnoreRules r = new IgnoreRules(List.of(), List.of(), List.of("127.0.0.0/8", "::1/128", "fd00::/8"), List.of());
        assertThat(r.ignores(row("127.9.9.9", 1, 2, null))).isTrue();
        assertThat(r.ignores(row("128.0.0.1", 1, 2, null))).isFalse();
        assertThat(r.ignores(row("::1", 1, 2, null))).isTrue();
        assertThat(r.ignores(row("fd77::2", 1, 2, null))).isTrue();
        assertThat(r.ignores(row("fe80::1", 1, 2, null))).isFalse();
        assertThatThrownBy(() -> new IgnoreRules(List.of(), List.of(), List.of("10.0.0.0/33"), List.of()))
                .hasMessageContaining("10.0.0.0/33");
    }

    @Test
    void hashes() {
        IgnoreRules r = new IgnoreRules(List.of(), List.of(), List.of(), List.of("AB".repeat(32)));
        assertThat(r.ignores(row("192.0.2.1", 1, 2, null))).isTrue();
    }
}

package io.peekd.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** Real lookups in the country database that scripts/setup installs. */
class GeoIpTest {
    private static final Path COUNTRY = Path.of("/var/lib/peekd/geoip/country.mmdb");

    private static void requireDb() {
        boolean required = "1".equals(System.getenv("PEEKD_REQUIRE_BPF"));
        if (!Files.isReadable(COUNTRY)) {
            if (required) fail(COUNTRY + " is missing: scripts/setup --test installs it");
            assumeTrue(false, COUNTRY + " is not installed");
        }
    }

    @Test
    void publicAddressesGetTheirCountry() throws Exception {
        requireDb();
        try (GeoIp g = GeoIp.open(COUNTRY, Path.of("/nonexistent/asn.mmdb"))) {
            assertThat(g.loaded()).containsExactly(true, false);
            // The data changes monthly, so check the shape rather than a particular country.
            for (String a : new String[] {"8.8.8.8", "1.1.1.1", "2001:4860:4860::8888", "9.9.9.9"})
                assertThat(g.lookup(InetAddress.ofLiteral(a)).country()).as(a).matches("[A-Z]{2}");
            assertThat(g.lookup(InetAddress.ofLiteral("8.8.8.8")).asn()).isNull();
        }
    }

    @Test
    void nonPublicAddressesAreLabelledNotLookedUp() {
        try (GeoIp g = GeoIp.disabled()) {
            assertThat(g.lookup(InetAddress.ofLiteral("127.0.0.1")).country()).isEqualTo("loopback");
            assertThat(g.lookup(InetAddress.ofLiteral("::1")).country()).isEqualTo("loopback");
            assertThat(g.lookup(InetAddress.ofLiteral("10.231.4.2")).country()).isEqualTo("private");
            assertThat(g.lookup(InetAddress.ofLiteral("192.168.1.1")).country()).isEqualTo("private");
            assertThat(g.lookup(InetAddress.ofLiteral("fd77:7065:656b::2")).country()).isEqualTo("private");
            assertThat(g.lookup(InetAddress.ofLiteral("fe80::1")).country()).isEqualTo("link-local");
            assertThat(g.lookup(InetAddress.ofLiteral("169.254.1.1")).country()).isEqualTo("link-local");
            assertThat(g.lookup(InetAddress.ofLiteral("100.64.0.1")).country()).isEqualTo("cgnat");
            assertThat(g.lookup(InetAddress.ofLiteral("8.8.8.8")).country()).isNull();
        }
    }

    @Test
    void aDamagedDatabaseTurnsTheLookupOffInsteadOfFailing() throws Exception {
        Path bad = Files.createTempFile("peekd-geo", ".mmdb");
        Files.write(bad, new byte[] {1, 2, 3, 4, 5});
        try (GeoIp g = GeoIp.open(bad, bad)) {
            assertThat(g.loaded()).containsExactly(false, false);
            assertThat(g.lookup(InetAddress.ofLiteral("8.8.8.8"))).isEqualTo(new GeoIp.Geo(null, null, null));
        } finally {
            Files.deleteIfExists(bad);
        }
    }
}

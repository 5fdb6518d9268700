package io.peekd.domain;

import com.maxmind.db.Reader;
import java.io.File;
import java.io.IOException;
import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * Country and autonomous system of remote addresses, from MaxMind-format
 * (.mmdb) files: DB-IP's free country database as installed by setup, or
 * GeoLite2 / DB-IP Lite files a user drops in. Addresses that are not public
 * get a label instead of a lookup. A missing or unreadable file only turns its
 * lookup off; it never stops the daemon.
 */
public final class GeoIp implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd.geoip");
    private final Reader country;
    private final Reader asn;

    /** What is known about one address. {@code country} is an ISO code or a label such as "private". */
    public record Geo(String country, Long asn, String asOrg) {
        static final Geo NONE = new Geo(null, null, null);
    }

    private GeoIp(Reader country, Reader asn) {
        this.country = country;
        this.asn = asn;
    }

    public static GeoIp open(Path countryDb, Path asnDb) {
        return new GeoIp(reader(countryDb), reader(asnDb));
    }

    public static GeoIp disabled() {
        return new GeoIp(null, null);
    }

    private static Reader reader(Path p) {
        if (p == null || !Files.isReadable(p)) {
            LOG.log(System.Logger.Level.INFO, "GeoIP database " + p + " is not installed; that lookup is off");
            return null;
        }
        try {
            return new Reader(new File(p.toString()));
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "GeoIP database " + p + " cannot be read (" + e.getMessage() + "); that lookup is off");
            return null;
        }
    }

    /** Whether the country and ASN databases are loaded. */
    public boolean[] loaded() {
        return new boolean[] {country != null, asn != null};
    }

    /** A label for addresses that must not be looked up, or null for a public address. */
    static String scope(InetAddress a) {
        if (a.isLoopbackAddress()) return "loopback";
        if (a.isAnyLocalAddress()) return "unspecified";
        if (a.isLinkLocalAddress()) return "link-local";
        if (a.isMulticastAddress()) return "multicast";
        if (a.isSiteLocalAddress()) return "private";
        byte[] b = a.getAddress();
        if (a instanceof Inet4Address) {
            int b0 = b[0] & 0xff, b1 = b[1] & 0xff;
            if (b0 == 100 && b1 >= 64 && b1 < 128) return "cgnat";
            if (b0 == 0 || b0 >= 240) return "reserved";
            if (b0 == 192 && b1 == 0 && (b[2] & 0xff) == 2 || b0 == 198 && (b1 == 18 || b1 == 19)
                    || b0 == 198 && b1 == 51 && (b[2] & 0xff) == 100 || b0 == 203 && b1 == 0 && (b[2] & 0xff) == 113)
                return "reserved";
        } else if (a instanceof Inet6Address) {
            if ((b[0] & 0xfe) == 0xfc) return "private"; // fc00::/7 unique local
            if ((b[0] & 0xff) == 0x20 && (b[1] & 0xff) == 0x01 && (b[2] & 0xff) == 0x0d && (b[3] & 0xff) == 0xb8)
                return "reserved"; // 2001:db8::/32 documentation
        }
        return null;
    }

    public Geo lookup(InetAddress a) {
        if (a == null) return Geo.NONE;
        String label = scope(a);
        if (label != null) return new Geo(label, null, null);
        String cc = null;
        Long as = null;
        String org = null;
        try {
            if (country != null && country.get(a, Map.class) instanceof Map<?, ?> m) cc = countryCode(m);
            if (asn != null && asn.get(a, Map.class) instanceof Map<?, ?> m) {
                if (m.get("autonomous_system_number") instanceof Number n) as = n.longValue();
                if (m.get("autonomous_system_organization") instanceof String s) org = s;
            }
        } catch (IOException | RuntimeException e) {
            // A damaged database answers nothing for this address; the row keeps everything else.
            return Geo.NONE;
        }
        return new Geo(cc, as, org);
    }

    /** ip-location-db files use {@code country_code}; GeoLite2/DB-IP use {@code country.iso_code}. */
    private static String countryCode(Map<?, ?> m) {
        if (m.get("country_code") instanceof String s) return s;
        if (m.get("country") instanceof Map<?, ?> c && c.get("iso_code") instanceof String s) return s;
        if (m.get("registered_country") instanceof Map<?, ?> c && c.get("iso_code") instanceof String s) return s;
        return null;
    }

    @Override
    public void close() {
        for (Reader r : new Reader[] {country, asn}) {
            if (r == null) continue;
            try {
                r.close();
            } catch (IOException ignored) {
                // closing a read-only mapping cannot lose data
            }
        }
    }
}

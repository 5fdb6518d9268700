package io.peekd.web;

import com.maxmind.db.Reader;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Country of a remote address from a MaxMind-format database (GeoLite2-Country, DB-IP lite),
 * when one is installed. Without one every lookup answers null and the page shows no flags.
 */
final class Geo implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd.web");
    private static final List<Path> SEARCH = List.of(Path.of("/usr/share/GeoIP"), Path.of("/var/lib/GeoIP"));
    private static final int CACHE = 100_000;

    private final Reader reader;
    private final Path file;
    private final Map<String, String> cache = new ConcurrentHashMap<>();

    private Geo(Reader reader, Path file) {
        this.reader = reader;
        this.file = file;
    }

    /** Opens the configured database, or the first country database found; never fails. */
    static Geo open(Optional<Path> configured) {
        Path f = configured.orElseGet(Geo::find);
        if (f == null) return new Geo(null, null);
        try {
            return new Geo(new Reader(f.toFile()), f);
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "no country flags: cannot open GeoIP database " + f + ": " + e.getMessage());
            return new Geo(null, null);
        }
    }

    private static Path find() {
        for (Path dir : SEARCH) {
            if (!Files.isDirectory(dir)) continue;
            try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "*{Country,country}*.mmdb")) {
                for (Path p : ds) return p;
            } catch (IOException ignored) {
                // an unreadable directory just means no flags from there
            }
        }
        return null;
    }

    boolean available() {
        return reader != null;
    }

    Path file() {
        return file;
    }

    /** ISO 3166 two-letter code, or null (no database, private address, not listed). */
    String country(String address) {
        if (reader == null || address == null || address.isEmpty()) return null;
        String hit = cache.get(address);
        if (hit != null) return hit.isEmpty() ? null : hit;
        String code = lookup(address);
        if (cache.size() > CACHE) cache.clear();
        cache.put(address, code == null ? "" : code);
        return code;
    }

    @SuppressWarnings("unchecked")
    private String lookup(String address) {
        try {
            InetAddress a = InetAddress.ofLiteral(address);
            if (a.isLoopbackAddress() || a.isSiteLocalAddress() || a.isLinkLocalAddress() || a.isAnyLocalAddress()) return null;
            Map<String, Object> rec = reader.get(a, Map.class);
            if (rec == null) return null;
            for (String k : List.of("country", "registered_country")) {
                if (rec.get(k) instanceof Map<?, ?> c && c.get("iso_code") instanceof String iso && iso.matches("[A-Z]{2}")) {
                    return iso;
                }
            }
            return null;
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    @Override
    public void close() {
        if (reader != null) {
            try {
                reader.close();
            } catch (IOException ignored) {
                // read-only file
            }
        }
    }
}

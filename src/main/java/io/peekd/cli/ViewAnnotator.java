package io.peekd.cli;

import io.peekd.config.Config;
import io.peekd.domain.GeoIp;
import io.peekd.identity.ExeState;
import io.peekd.tui.Annotator;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;

/**
 * What {@code peekd view} shows next to hashes and addresses: VirusTotal's verdict, else what
 * the distribution package says of the file (both from the daemon's state.json), and the
 * country of an address from the configured GeoIP database. Anything unknown is left out.
 */
final class ViewAnnotator implements Annotator, AutoCloseable {
    private final Path stateFile;
    private final GeoIp geo;
    private FileTime readAt;
    private ExeState.Doc doc;

    private ViewAnnotator(Path stateFile, GeoIp geo) {
        this.stateFile = stateFile;
        this.geo = geo;
    }

    static ViewAnnotator of(Config c) {
        GeoIp geo;
        try {
            geo = c.geoip() != null && c.geoip().enabled() ? GeoIp.open(c.geoip().countryDb(), c.geoip().asnDb())
                    : GeoIp.disabled();
        } catch (RuntimeException e) {
            geo = GeoIp.disabled(); // a broken mmdb costs the country column, not the view
        }
        return new ViewAnnotator(c.paths().state(), geo);
    }

    @Override
    public synchronized Map<String, String> verdicts(Collection<String> sha256s) {
        ExeState.Doc d = state();
        Map<String, String> out = new HashMap<>();
        if (d == null) return out;
        Map<String, String> packaged = new HashMap<>();
        d.executables.values().forEach(exe -> exe.hashes.forEach((sha, h) -> {
            if (h.packageStatus != null) packaged.merge(sha, label(h.packageStatus), (a, b) -> a.equals(b) ? a : a + "/" + b);
        }));
        for (String sha : sha256s) {
            ExeState.Verdict v = d.virustotal.get(sha);
            String vt = v == null || v.verdict == null || v.verdict.equals("error") ? null
                    : v.verdict + (v.malicious != null && v.malicious > 0 ? " (" + v.malicious + " engines)" : "");
            String pkg = packaged.get(sha);
            String note = vt != null && pkg != null ? vt + ", " + pkg : vt != null ? vt : pkg;
            if (note != null) out.put(sha, note);
        }
        return out;
    }

    private static String label(String packageStatus) {
        return switch (packageStatus) {
            case "matches" -> "packaged";
            case "mismatch" -> "NOT as packaged";
            default -> "package unverifiable";
        };
    }

    /** state.json, read again only when the daemon has rewritten it. */
    private ExeState.Doc state() {
        try {
            FileTime t = Files.getLastModifiedTime(stateFile);
            if (doc == null || !t.equals(readAt)) {
                doc = ExeState.read(stateFile);
                readAt = t;
            }
        } catch (IOException | RuntimeException e) {
            // No state yet, or a file being replaced: keep what was read last.
        }
        return doc;
    }

    @Override
    public Map<String, String> countries(Collection<String> addresses) {
        Map<String, String> out = new HashMap<>();
        for (String a : addresses) {
            if (a == null || a.isEmpty()) continue;
            try {
                String cc = geo.lookup(InetAddress.ofLiteral(a)).country();
                if (cc != null) out.put(a, cc);
            } catch (IllegalArgumentException e) {
                // not an address literal (an AF_PACKET or unix key): nothing to say
            }
        }
        return out;
    }

    @Override
    public void close() {
        geo.close();
    }
}

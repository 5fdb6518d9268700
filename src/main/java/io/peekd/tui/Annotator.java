package io.peekd.tui;

import java.util.Collection;
import java.util.Map;

/**
 * Extra facts {@code peekd view} shows next to some keys: the VirusTotal or packaged
 * verdict of a hash, the country of an address. peekd's identity and GeoIP features
 * provide them; until they are there the columns stay empty. Called on the view's query
 * thread, never on the screen thread, so a lookup may read files or a database. It must
 * not throw for a key it knows nothing about: it leaves that key out of the map.
 */
public interface Annotator {

    /** The verdict per sha256 (e.g. "clean", "suspicious", "packaged", "pending"). */
    default Map<String, String> verdicts(Collection<String> sha256s) {
        return Map.of();
    }

    /** The country code per address text (as stored in laddr/raddr). */
    default Map<String, String> countries(Collection<String> addresses) {
        return Map.of();
    }

    /** Knows nothing: the columns stay empty. */
    Annotator NONE = new Annotator() {
    };
}

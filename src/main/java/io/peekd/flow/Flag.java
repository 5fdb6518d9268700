package io.peekd.flow;

import java.util.ArrayList;
import java.util.List;

/**
 * Marks on a stored row about its executable, as in seed 004: {@code NEW_EXE}
 * (bit 0) a path seen for the first time, {@code NEW_HASH} (bit 1) a known
 * path with a new sha256. The package bits say whether the new content is what
 * the distribution package owning the path installed. Stored as a bit mask,
 * shown in JSON as a list of names.
 */
public enum Flag {
    NEW_EXE(1),
    NEW_HASH(2),
    /** New content that matches the owning package's checksum: an update, not tampering. */
    PACKAGED(4),
    /** New content at a path a package owns, but not what the package installed: loud. */
    PACKAGE_MISMATCH(8);

    public final int bit;

    Flag(int bit) {
        this.bit = bit;
    }

    public boolean in(int mask) {
        return (mask & bit) != 0;
    }

    /** The names of the bits set in {@code mask}, in declaration order. */
    public static List<String> names(int mask) {
        List<String> out = new ArrayList<>(2);
        for (Flag f : values()) if (f.in(mask)) out.add(f.name());
        return out;
    }

    public static int mask(Flag... flags) {
        int m = 0;
        for (Flag f : flags) m |= f.bit;
        return m;
    }
}

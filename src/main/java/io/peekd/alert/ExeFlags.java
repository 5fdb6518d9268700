package io.peekd.alert;

import java.util.ArrayList;
import java.util.List;

/**
 * The executable flags of seed 004, as rows will carry them: NEW_EXE (bit 0) for a path
 * seen for the first time, NEW_HASH (bit 1) for a new sha256 of a known path.
 */
public final class ExeFlags {
    public static final int NEW_EXE = 1;
    public static final int NEW_HASH = 2;

    private ExeFlags() {
    }

    static String describe(int flags) {
        List<String> out = new ArrayList<>();
        if ((flags & NEW_EXE) != 0) out.add("NEW_EXE");
        if ((flags & NEW_HASH) != 0) out.add("NEW_HASH");
        return String.join(",", out);
    }
}

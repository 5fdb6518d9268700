package io.peekd.domain;

/**
 * Finds where a cut-off DNS message stops holding whole records. dnsjava reports
 * "end of input" both for a capture cut mid-message and for rdata too short for its
 * type; only the first is a salvageable truncation, and only this walk of the
 * record framing (names, fixed fields, rdlength) can tell them apart.
 */
final class DnsFraming {

    /**
     * The leading whole records: {@code end} is the offset just after the last one,
     * {@code counts} how many of each section it holds.
     */
    record Prefix(int end, int[] counts) {
    }

    private DnsFraming() {
    }

    /** The complete-record prefix if {@code wire} is cut mid-record, else null (framing intact or not understood). */
    static Prefix cutPrefix(byte[] wire) {
        if (wire.length < 12) return null;
        int[] declared = new int[4];
        for (int s = 0; s < 4; s++) declared[s] = (wire[4 + 2 * s] & 0xff) << 8 | wire[5 + 2 * s] & 0xff;
        int[] done = new int[4];
        int pos = 12;
        for (int s = 0; s < 4; s++) {
            for (int j = 0; j < declared[s]; j++) {
                int next = skipName(wire, pos);
                if (next == BAD) return null; // let dnsjava name the fault
                if (next != CUT) next += s == 0 ? 4 : 10;
                if (next != CUT && s != 0 && next <= wire.length) {
                    int rdlen = (wire[next - 2] & 0xff) << 8 | wire[next - 1] & 0xff;
                    next += rdlen;
                }
                if (next == CUT || next > wire.length) return new Prefix(pos, done);
                pos = next;
                done[s]++;
            }
        }
        return null;
    }

    private static final int CUT = -1, BAD = -2;

    /** Skips a name in place without following pointers; each step moves forward, so it ends. */
    private static int skipName(byte[] w, int pos) {
        while (true) {
            if (pos >= w.length) return CUT;
            int b = w[pos] & 0xff;
            if (b == 0) return pos + 1;
            if ((b & 0xc0) == 0xc0) return pos + 2 > w.length ? CUT : pos + 2;
            if ((b & 0xc0) != 0) return BAD;
            pos += 1 + b;
        }
    }
}

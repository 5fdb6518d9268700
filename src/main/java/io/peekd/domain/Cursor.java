package io.peekd.domain;

/**
 * Bounds-checked reader over {@code buf[pos, limit)}. Two limits matter for
 * first-bytes-of-a-flow input: {@code limit} is where a structure's declared
 * length says it ends, {@code available} is where the captured bytes stop.
 * Crossing the first is a lie in the input ({@link RejectReason#LENGTH_MISMATCH});
 * crossing only the second means the capture was cut short ({@link RejectReason#TRUNCATED}).
 */
final class Cursor {

    private final byte[] buf;
    private int pos;
    private final int limit;
    private final int available;
    /** Set once a sub-structure ran past the captured bytes: nothing after it can be read. */
    private boolean cut;

    private Cursor(byte[] buf, int pos, int limit, int available) {
        this.buf = buf;
        this.pos = pos;
        this.limit = limit;
        this.available = available;
    }

    static Cursor of(byte[] buf, int off, int len) {
        return new Cursor(buf, off, off + len, off + len);
    }

    /** A cursor whose declared end may lie beyond the bytes we actually hold. */
    static Cursor declared(byte[] buf, int off, long declaredLen, int availableEnd) {
        long end = off + declaredLen;
        int limit = end > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) end;
        return new Cursor(buf, off, limit, Math.min(availableEnd, limit));
    }

    int pos() {
        return pos;
    }

    int remainingDeclared() {
        return limit - pos;
    }

    boolean atDeclaredEnd() {
        return !cut && pos >= limit;
    }

    /** True when every declared byte is also present. */
    boolean complete() {
        return available >= limit;
    }

    boolean exhaustedAvailable() {
        return pos >= available;
    }

    private void need(int n, String what) {
        if (cut) throw new Malformed(RejectReason.TRUNCATED, what + " lies after the end of the capture");
        if (n < 0 || n > limit - pos) {
            throw new Malformed(RejectReason.LENGTH_MISMATCH, what + " needs " + n + " bytes, only "
                    + (limit - pos) + " declared");
        }
        if (n > available - pos) {
            throw new Malformed(RejectReason.TRUNCATED, what + " cut off at byte " + available);
        }
    }

    int u8(String what) {
        need(1, what);
        return buf[pos++] & 0xff;
    }

    int u16(String what) {
        need(2, what);
        int v = (buf[pos] & 0xff) << 8 | buf[pos + 1] & 0xff;
        pos += 2;
        return v;
    }

    int u24(String what) {
        need(3, what);
        int v = (buf[pos] & 0xff) << 16 | (buf[pos + 1] & 0xff) << 8 | buf[pos + 2] & 0xff;
        pos += 3;
        return v;
    }

    void skip(int n, String what) {
        need(n, what);
        pos += n;
    }

    byte[] bytes(int n, String what) {
        need(n, what);
        byte[] out = java.util.Arrays.copyOfRange(buf, pos, pos + n);
        pos += n;
        return out;
    }

    /**
     * A sub-cursor over the next {@code len} declared bytes, which may extend past
     * what we hold; this cursor moves past them (as far as they are available).
     */
    Cursor sub(int len, String what) {
        if (len < 0 || len > limit - pos) {
            throw new Malformed(RejectReason.LENGTH_MISMATCH, what + " claims " + len + " bytes, only "
                    + (limit - pos) + " declared");
        }
        Cursor c = new Cursor(buf, pos, pos + len, Math.min(available, pos + len));
        if (pos + len > available) {
            cut = true;
            pos = available;
        } else {
            pos += len;
        }
        return c;
    }
}

package io.peekd.capture;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Turns raw ring-buffer records and map keys into Java records. Never trusts a length it was given. */
final class EventDecoder {
    static final int EV_EXEC = 1, EV_FLOW = 2, EV_EXIT = 3, EV_CLOSE = 4, EV_PAYLOAD = 5, EV_GAI = 6;
    static final int PL_DNS = 1;

    private EventDecoder() {
    }

    /** Returns null for a record of unknown type or wrong size (the caller counts those). */
    static KernelEvent decode(MemorySegment s) {
        if (s.byteSize() < Layouts.HDR.byteSize()) return null;
        int type = s.get(JAVA_INT, 0);
        long ts = s.get(JAVA_LONG, 8);
        return switch (type) {
            case EV_EXEC -> s.byteSize() >= off(Layouts.EXEC, "strings") ? exec(s, ts) : null;
            case EV_FLOW -> s.byteSize() >= Layouts.FLOW_EVENT.byteSize() ? flow(s, ts) : null;
            case EV_EXIT -> s.byteSize() >= Layouts.EXIT.byteSize()
                    ? new KernelEvent.Exit(ts, s.get(JAVA_INT, off(Layouts.EXIT, "tgid")),
                            s.get(JAVA_LONG, off(Layouts.EXIT, "start_ns")))
                    : null;
            case EV_CLOSE -> s.byteSize() >= Layouts.CLOSE.byteSize()
                    ? new KernelEvent.Close(ts, key(s.asSlice(off(Layouts.CLOSE, "key"), Layouts.FLOW_KEY.byteSize())))
                    : null;
            case EV_PAYLOAD -> s.byteSize() >= off(Layouts.PAYLOAD, "data") ? payload(s, ts) : null;
            case EV_GAI -> s.byteSize() >= Layouts.GAI.byteSize() ? gai(s, ts) : null;
            default -> null;
        };
    }

    private static KernelEvent.Payload payload(MemorySegment s, long ts) {
        GroupLayout g = Layouts.PAYLOAD;
        // The record ends after the data it carries (peekd_events.h).
        long room = Math.min(s.byteSize() - off(g, "data"), Layouts.PAYLOAD_LEN);
        int len = (int) Math.clamp(Integer.toUnsignedLong(s.get(JAVA_INT, off(g, "len"))), 0, room);
        return new KernelEvent.Payload(ts, key(s.asSlice(off(g, "key"), Layouts.FLOW_KEY.byteSize())),
                s.get(JAVA_BYTE, off(g, "kind")) == PL_DNS, s.get(JAVA_INT, off(g, "orig_len")),
                s.asSlice(off(g, "data"), len).toArray(JAVA_BYTE));
    }

    private static KernelEvent.Resolved gai(MemorySegment s, long ts) {
        GroupLayout g = Layouts.GAI;
        int n = Math.clamp(Integer.toUnsignedLong(s.get(JAVA_INT, off(g, "naddrs"))), 0, Layouts.GAI_ADDRS);
        java.util.List<java.net.InetAddress> addrs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            int family = Short.toUnsignedInt(s.get(JAVA_SHORT, off(g, "family") + 2L * i));
            byte[] a = s.asSlice(off(g, "addrs") + 16L * i, 16).toArray(JAVA_BYTE);
            try {
                if (family == FlowKey.AF_INET) addrs.add(java.net.InetAddress.getByAddress(java.util.Arrays.copyOf(a, 4)));
                else if (family == FlowKey.AF_INET6) addrs.add(java.net.InetAddress.getByAddress(a));
            } catch (java.net.UnknownHostException e) {
                throw new AssertionError(e); // fixed lengths
            }
        }
        return new KernelEvent.Resolved(ts, s.get(JAVA_INT, off(g, "tgid")), s.get(JAVA_LONG, off(g, "start_ns")),
                cstr(s.asSlice(off(g, "name"), Layouts.GAI_NAME_LEN)), java.util.List.copyOf(addrs));
    }

    private static long off(GroupLayout g, String m) {
        return Layouts.offset(g, m);
    }

    static FlowKey key(MemorySegment k) {
        GroupLayout g = Layouts.FLOW_KEY;
        return new FlowKey(
                k.get(JAVA_INT, off(g, "tgid")), k.get(JAVA_INT, off(g, "uid")), k.get(JAVA_LONG, off(g, "start_ns")),
                k.get(JAVA_LONG, off(g, "exe_ino")), Integer.toUnsignedLong(k.get(JAVA_INT, off(g, "exe_dev"))),
                Short.toUnsignedInt(k.get(JAVA_SHORT, off(g, "family"))),
                Short.toUnsignedInt(k.get(JAVA_SHORT, off(g, "proto"))),
                Byte.toUnsignedInt(k.get(JAVA_BYTE, off(g, "sk_type"))),
                Short.toUnsignedInt(k.get(JAVA_SHORT, off(g, "lport"))),
                Short.toUnsignedInt(k.get(JAVA_SHORT, off(g, "rport"))),
                k.asSlice(off(g, "laddr"), 16).toArray(JAVA_BYTE), k.asSlice(off(g, "raddr"), 16).toArray(JAVA_BYTE));
    }

    /** Writes a key back into the kernel's layout, for map deletes. */
    static void encode(FlowKey key, MemorySegment k) {
        GroupLayout g = Layouts.FLOW_KEY;
        k.fill((byte) 0);
        k.set(JAVA_INT, off(g, "tgid"), key.tgid());
        k.set(JAVA_INT, off(g, "uid"), key.uid());
        k.set(JAVA_LONG, off(g, "start_ns"), key.startNs());
        k.set(JAVA_LONG, off(g, "exe_ino"), key.exeIno());
        k.set(JAVA_INT, off(g, "exe_dev"), (int) key.exeDev());
        k.set(JAVA_SHORT, off(g, "family"), (short) key.family());
        k.set(JAVA_SHORT, off(g, "proto"), (short) key.proto());
        k.set(JAVA_BYTE, off(g, "sk_type"), (byte) key.sockType());
        k.set(JAVA_SHORT, off(g, "lport"), (short) key.lport());
        k.set(JAVA_SHORT, off(g, "rport"), (short) key.rport());
        MemorySegment.copy(key.laddr(), 0, k, JAVA_BYTE, off(g, "laddr"), 16);
        MemorySegment.copy(key.raddr(), 0, k, JAVA_BYTE, off(g, "raddr"), 16);
    }

    private static KernelEvent.Exec exec(MemorySegment s, long ts) {
        GroupLayout g = Layouts.EXEC;
        // The four strings are packed back to back after the fixed part; a length that
        // claims more than its maximum or than the record holds is cut to fit.
        Strings str = new Strings(s, off(g, "strings"));
        MemorySegment pathBytes = str.next(Short.toUnsignedLong(s.get(JAVA_SHORT, off(g, "path_len"))), Layouts.PATH_LEN);
        MemorySegment fileBytes = str.next(Integer.toUnsignedLong(s.get(JAVA_INT, off(g, "filename_len"))), Layouts.PATH_LEN);
        MemorySegment argBytes = str.next(Integer.toUnsignedLong(s.get(JAVA_INT, off(g, "args_len"))), Layouts.ARGS_LEN);
        MemorySegment cwdBytes = str.next(Short.toUnsignedLong(s.get(JAVA_SHORT, off(g, "cwd_len"))), Layouts.PATH_LEN);
        boolean truncated = s.get(JAVA_BYTE, off(g, "path_truncated")) != 0;
        String path = joinReversed(pathBytes);
        // A partial working directory would place a relative script in the wrong directory: none is better.
        String cwd = s.get(JAVA_BYTE, off(g, "cwd_truncated")) != 0 ? null
                : cwdBytes.byteSize() == 0 ? "/" : joinReversed(cwdBytes);
        return new KernelEvent.Exec(ts, s.get(JAVA_INT, off(g, "tgid")), s.get(JAVA_LONG, off(g, "start_ns")),
                s.get(JAVA_INT, off(g, "ppid")), s.get(JAVA_LONG, off(g, "pstart_ns")), s.get(JAVA_INT, off(g, "uid")),
                s.get(JAVA_INT, off(g, "gid")), Integer.toUnsignedLong(s.get(JAVA_INT, off(g, "exe_dev"))),
                s.get(JAVA_LONG, off(g, "exe_ino")), cstr(s.asSlice(off(g, "comm"), Layouts.COMM_LEN)),
                truncated ? null : path, truncated, cstr(fileBytes), argv(argBytes),
                s.get(JAVA_LONG, off(g, "cgroup_id")), cwd);
    }

    /** Walks the packed strings of an exec record without reading past its end. */
    private static final class Strings {
        private final MemorySegment s;
        private long pos;

        Strings(MemorySegment s, long start) {
            this.s = s;
            this.pos = start;
        }

        MemorySegment next(long len, int max) {
            long n = Math.min(Math.min(len, max), s.byteSize() - pos);
            MemorySegment out = s.asSlice(pos, n);
            pos += n;
            return out;
        }
    }

    private static KernelEvent.NewFlow flow(MemorySegment s, long ts) {
        GroupLayout g = Layouts.FLOW_EVENT;
        return new KernelEvent.NewFlow(ts, key(s.asSlice(off(g, "key"), Layouts.FLOW_KEY.byteSize())),
                s.get(JAVA_INT, off(g, "tid")), cstr(s.asSlice(off(g, "comm"), Layouts.COMM_LEN)),
                s.get(JAVA_INT, off(g, "ppid")), s.get(JAVA_LONG, off(g, "pstart_ns")),
                s.get(JAVA_LONG, off(g, "cgroup_id")));
    }

    /** The kernel writes the path leaf-first as NUL-terminated names. */
    static String joinReversed(MemorySegment s) {
        List<String> parts = splitNul(s.toArray(JAVA_BYTE));
        if (parts.isEmpty()) return null;
        Collections.reverse(parts);
        return "/" + String.join("/", parts);
    }

    /** argv as a display string: NUL separators become spaces. */
    /** argv, NUL-separated: joining with spaces would lose which words belong together (script paths). */
    static String argv(MemorySegment s) {
        return String.join("\0", splitNul(s.toArray(JAVA_BYTE)));
    }

    private static List<String> splitNul(byte[] b) {
        List<String> out = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= b.length; i++) {
            if (i == b.length || b[i] == 0) {
                if (i > start) out.add(new String(b, start, i - start, StandardCharsets.UTF_8));
                start = i + 1;
            }
        }
        return out;
    }

    static String cstr(MemorySegment s) {
        byte[] b = s.toArray(JAVA_BYTE);
        int n = 0;
        while (n < b.length && b[n] != 0) n++;
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }
}

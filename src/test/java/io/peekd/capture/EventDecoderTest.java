package io.peekd.capture;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Decoding of records laid out exactly as the C structs are (offsets come from the Java layouts the BTF check guards). */
class EventDecoderTest {

    private static void put(MemorySegment s, long off, String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        MemorySegment.copy(b, 0, s, JAVA_BYTE, off, b.length);
    }

    /** An exec record as the kernel sends it: fixed part, then the strings packed, and nothing after them. */
    private static MemorySegment exec(Arena a, String path, String filename, String args, String cwd) {
        long base = Layouts.offset(Layouts.EXEC, "strings");
        MemorySegment s = a.allocate(base + path.length() + filename.length() + args.length() + cwd.length());
        s.set(JAVA_INT, 0, EventDecoder.EV_EXEC);
        s.set(JAVA_SHORT, Layouts.offset(Layouts.EXEC, "path_len"), (short) path.length());
        s.set(JAVA_INT, Layouts.offset(Layouts.EXEC, "filename_len"), filename.length());
        s.set(JAVA_INT, Layouts.offset(Layouts.EXEC, "args_len"), args.length());
        s.set(JAVA_SHORT, Layouts.offset(Layouts.EXEC, "cwd_len"), (short) cwd.length());
        put(s, base, path + filename + args + cwd);
        return s;
    }

    @Test
    void execRecordRebuildsPathLeafFirstAndArgv() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = exec(a, "curl\0bin\0usr\0", "/usr/bin/curl\0", "curl\0-s\0https://example.org/a b\0",
                    "scripts\0alice\0home\0");
            s.set(JAVA_INT, Layouts.offset(Layouts.EXEC, "tgid"), 4242);
            s.set(JAVA_LONG, Layouts.offset(Layouts.EXEC, "start_ns"), 123_000_000_000L);
            put(s, Layouts.offset(Layouts.EXEC, "comm"), "curl");
            KernelEvent e = EventDecoder.decode(s);
            assertThat(e).isInstanceOf(KernelEvent.Exec.class);
            KernelEvent.Exec x = (KernelEvent.Exec) e;
            assertThat(x.exePath()).isEqualTo("/usr/bin/curl");
            assertThat(x.filename()).isEqualTo("/usr/bin/curl");
            assertThat(x.args()).isEqualTo("curl\0-s\0https://example.org/a b");
            assertThat(x.tgid()).isEqualTo(4242);
            assertThat(x.startNs()).isEqualTo(123_000_000_000L);
            assertThat(x.comm()).isEqualTo("curl");
            assertThat(x.cwd()).isEqualTo("/home/alice/scripts");
        }
    }

    @Test
    void emptyStringsTakeNoRoomAndTheNextOneFollowsAtOnce() {
        try (Arena a = Arena.ofConfined()) {
            KernelEvent.Exec x = (KernelEvent.Exec) EventDecoder.decode(exec(a, "", "", "sh\0-c\0", "tmp\0"));
            assertThat(x.args()).isEqualTo("sh\0-c");
            assertThat(x.cwd()).isEqualTo("/tmp");
            assertThat(x.filename()).isEmpty();
        }
    }

    @Test
    void cwdAtTheRootAndTooDeepACwd() {
        try (Arena a = Arena.ofConfined()) {
            // The walk reached the root at once: no names, not truncated.
            assertThat(((KernelEvent.Exec) EventDecoder.decode(exec(a, "", "", "", ""))).cwd()).isEqualTo("/");
            MemorySegment s = exec(a, "", "", "", "x\0deep\0");
            s.set(JAVA_BYTE, Layouts.offset(Layouts.EXEC, "cwd_truncated"), (byte) 1);
            // Half a directory would place a relative script wrongly.
            assertThat(((KernelEvent.Exec) EventDecoder.decode(s)).cwd()).isNull();
        }
    }

    @Test
    void truncatedPathIsNotPassedOffAsReal() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = exec(a, "x\0deep\0", "", "", "");
            s.set(JAVA_BYTE, Layouts.offset(Layouts.EXEC, "path_truncated"), (byte) 1);
            KernelEvent.Exec x = (KernelEvent.Exec) EventDecoder.decode(s);
            assertThat(x.exePath()).isNull();
            assertThat(x.pathTruncated()).isTrue();
        }
    }

    @Test
    void lyingLengthsAreCutToTheRecord() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = exec(a, "curl\0bin\0", "", "curl\0", "");
            s.set(JAVA_SHORT, Layouts.offset(Layouts.EXEC, "path_len"), (short) -1);
            s.set(JAVA_INT, Layouts.offset(Layouts.EXEC, "args_len"), Integer.MAX_VALUE);
            s.set(JAVA_INT, Layouts.offset(Layouts.EXEC, "filename_len"), -5);
            s.set(JAVA_SHORT, Layouts.offset(Layouts.EXEC, "cwd_len"), (short) -1);
            KernelEvent.Exec x = (KernelEvent.Exec) EventDecoder.decode(s);
            // path claims 65535 bytes: it gets what the record has, the rest get nothing.
            assertThat(x.exePath()).isEqualTo("/curl/bin/curl");
            assertThat(x.args()).isEmpty();
        }
    }

    @Test
    void payloadRecordEndsAfterItsDataAndALyingLengthIsCut() {
        try (Arena a = Arena.ofConfined()) {
            long base = Layouts.offset(Layouts.PAYLOAD, "data");
            MemorySegment s = a.allocate(base + 256);
            s.set(JAVA_INT, 0, EventDecoder.EV_PAYLOAD);
            s.set(JAVA_INT, Layouts.offset(Layouts.PAYLOAD, "len"), 5);
            s.set(JAVA_INT, Layouts.offset(Layouts.PAYLOAD, "orig_len"), 5);
            put(s, base, "hello");
            KernelEvent.Payload p = (KernelEvent.Payload) EventDecoder.decode(s);
            assertThat(new String(p.data(), StandardCharsets.UTF_8)).isEqualTo("hello");
            s.set(JAVA_INT, Layouts.offset(Layouts.PAYLOAD, "len"), 2048);
            assertThat(((KernelEvent.Payload) EventDecoder.decode(s)).data()).hasSize(256);
            assertThat(EventDecoder.decode(s.asSlice(0, base - 1))).isNull();
        }
    }

    @Test
    void shortOrUnknownRecordsAreRejectedNotThrown() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment tiny = a.allocate(8);
            assertThat(EventDecoder.decode(tiny)).isNull();
            MemorySegment unknown = a.allocate(64);
            unknown.set(JAVA_INT, 0, 99);
            assertThat(EventDecoder.decode(unknown)).isNull();
            MemorySegment shortExec = a.allocate(64);
            shortExec.set(JAVA_INT, 0, EventDecoder.EV_EXEC);
            assertThat(EventDecoder.decode(shortExec)).isNull();
        }
    }

    @Test
    void flowKeyRoundTripsThroughTheKernelLayout() {
        byte[] l = new byte[16], r = new byte[16];
        l[0] = 127; l[3] = 1;
        r[0] = 10; r[1] = (byte) 231; r[3] = 2;
        FlowKey k = new FlowKey(77, 1000, 5_000_000_000L, 987654321L, 0x800003L, FlowKey.AF_INET, 6, 1, 40000, 443, l, r);
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(Layouts.FLOW_KEY);
            EventDecoder.encode(k, s);
            FlowKey back = EventDecoder.key(s);
            assertThat(back).isEqualTo(k);
            assertThat(back.remoteAddress()).isEqualTo("10.231.0.2");
            assertThat(back.protoName()).isEqualTo("tcp");
            assertThat(back.ipVersion()).isEqualTo(4);
        }
    }

    @Test
    void protocolNames() {
        byte[] z = new byte[16];
        assertThat(new FlowKey(1, 0, 0, 0, 0, FlowKey.AF_INET6, 17, 2, 0, 0, z, z).protoName()).isEqualTo("udp");
        assertThat(new FlowKey(1, 0, 0, 0, 0, FlowKey.AF_INET, 1, 2, 0, 0, z, z).protoName()).isEqualTo("icmp");
        assertThat(new FlowKey(1, 0, 0, 0, 0, FlowKey.AF_INET6, 58, 2, 0, 0, z, z).protoName()).isEqualTo("icmp6");
        assertThat(new FlowKey(1, 0, 0, 0, 0, FlowKey.AF_INET, 253, 3, 0, 0, z, z).protoName()).isEqualTo("raw");
        assertThat(new FlowKey(1, 0, 0, 0, 0, FlowKey.AF_PACKET, 0x88b5, 3, 0, 0, z, z).protoName()).isEqualTo("packet");
        assertThat(new FlowKey(1, 0, 0, 0, 0, FlowKey.AF_PACKET, 0x88b5, 3, 0, 0, z, z).ipVersion()).isZero();
    }
}

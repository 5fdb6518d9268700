package io.peekd.capture;

import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import io.peekd.bpf.Btf;
import java.lang.foreign.GroupLayout;
import java.lang.foreign.MemoryLayout;
import java.util.ArrayList;
import java.util.List;

/**
 * Java mirrors of the structs in src/main/bpf/peekd_events.h. {@link #verify}
 * compares them with the BTF of the loaded object, so that a header change that
 * is not mirrored here is caught at start-up rather than decoded as garbage.
 */
final class Layouts {
    private Layouts() {
    }

    static final GroupLayout FLOW_KEY = structLayout(
            JAVA_INT.withName("tgid"), JAVA_INT.withName("uid"), JAVA_LONG.withName("start_ns"),
            JAVA_LONG.withName("exe_ino"), JAVA_INT.withName("exe_dev"), JAVA_SHORT.withName("family"),
            JAVA_SHORT.withName("proto"), JAVA_BYTE.withName("sk_type"), sequenceLayout(3, JAVA_BYTE).withName("pad"),
            JAVA_SHORT.withName("lport"), JAVA_SHORT.withName("rport"),
            sequenceLayout(16, JAVA_BYTE).withName("laddr"), sequenceLayout(16, JAVA_BYTE).withName("raddr"))
            .withName("peekd_flow_key");

    static final GroupLayout FLOW_VAL = structLayout(
            JAVA_LONG.withName("sent_bytes"), JAVA_LONG.withName("recv_bytes"), JAVA_LONG.withName("sent_calls"),
            JAVA_LONG.withName("recv_calls"), JAVA_LONG.withName("conns"))
            .withName("peekd_flow_val");

    static final GroupLayout SLOT = structLayout(
            JAVA_INT.withName("state"), JAVA_INT.withName("pad"), FLOW_KEY.withName("key"),
            JAVA_LONG.withName("sent_bytes"), JAVA_LONG.withName("recv_bytes"), JAVA_LONG.withName("sent_calls"),
            JAVA_LONG.withName("recv_calls"), sequenceLayout(2, JAVA_LONG).withName("pad2"))
            .withName("peekd_slot");

    /** enum peekd_slot_state */
    static final int SLOT_FREE = 0, SLOT_ACTIVE = 2, SLOT_RELEASED = 3;

    static final GroupLayout HDR = structLayout(
            JAVA_INT.withName("type"), JAVA_INT.withName("cpu"), JAVA_LONG.withName("ts_ns"))
            .withName("peekd_event_hdr");

    static final int COMM_LEN = 16, PATH_LEN = 512, ARGS_LEN = 512, EXEC_STRINGS_LEN = 3 * PATH_LEN + ARGS_LEN;

    static final GroupLayout EXEC = structLayout(
            HDR.withName("hdr"), JAVA_INT.withName("tgid"), JAVA_INT.withName("ppid"),
            JAVA_LONG.withName("start_ns"), JAVA_LONG.withName("pstart_ns"), JAVA_INT.withName("uid"),
            JAVA_INT.withName("gid"), JAVA_LONG.withName("exe_ino"), JAVA_INT.withName("exe_dev"),
            JAVA_SHORT.withName("path_len"), JAVA_BYTE.withName("path_truncated"), JAVA_BYTE.withName("pad"),
            JAVA_LONG.withName("cgroup_id"), JAVA_INT.withName("args_len"), JAVA_INT.withName("filename_len"),
            JAVA_SHORT.withName("cwd_len"), JAVA_BYTE.withName("cwd_truncated"), sequenceLayout(5, JAVA_BYTE).withName("pad2"),
            sequenceLayout(COMM_LEN, JAVA_BYTE).withName("comm"),
            sequenceLayout(EXEC_STRINGS_LEN, JAVA_BYTE).withName("strings"))
            .withName("peekd_exec_event");

    static final GroupLayout FLOW_EVENT = structLayout(
            HDR.withName("hdr"), FLOW_KEY.withName("key"), JAVA_INT.withName("ppid"), JAVA_INT.withName("tid"),
            JAVA_LONG.withName("pstart_ns"), JAVA_LONG.withName("cgroup_id"),
            sequenceLayout(COMM_LEN, JAVA_BYTE).withName("comm"))
            .withName("peekd_flow_event");

    static final GroupLayout EXIT = structLayout(
            HDR.withName("hdr"), JAVA_INT.withName("tgid"), JAVA_INT.withName("pad"), JAVA_LONG.withName("start_ns"))
            .withName("peekd_exit_event");

    static final GroupLayout CLOSE = structLayout(HDR.withName("hdr"), FLOW_KEY.withName("key"))
            .withName("peekd_close_event");

    static final int PAYLOAD_LEN = 2048, GAI_NAME_LEN = 256, GAI_ADDRS = 8;

    static final GroupLayout PAYLOAD = structLayout(
            HDR.withName("hdr"), FLOW_KEY.withName("key"), JAVA_INT.withName("len"), JAVA_INT.withName("orig_len"),
            JAVA_BYTE.withName("kind"), sequenceLayout(7, JAVA_BYTE).withName("pad"),
            sequenceLayout(PAYLOAD_LEN, JAVA_BYTE).withName("data"))
            .withName("peekd_payload_event");

    static final GroupLayout GAI = structLayout(
            HDR.withName("hdr"), JAVA_INT.withName("tgid"), JAVA_INT.withName("naddrs"), JAVA_LONG.withName("start_ns"),
            sequenceLayout(GAI_ADDRS, JAVA_SHORT).withName("family"),
            sequenceLayout(GAI_ADDRS, sequenceLayout(16, JAVA_BYTE)).withName("addrs"),
            sequenceLayout(GAI_NAME_LEN, JAVA_BYTE).withName("name"))
            .withName("peekd_gai_event");

    static final List<GroupLayout> ALL = List.of(FLOW_KEY, FLOW_VAL, SLOT, HDR, EXEC, FLOW_EVENT, EXIT, CLOSE, PAYLOAD, GAI);

    static long offset(GroupLayout g, String member) {
        return g.byteOffset(MemoryLayout.PathElement.groupElement(member));
    }

    /** Returns one line per mismatch between these layouts and the object's BTF; empty means they agree. */
    static List<String> verify(Btf btf) {
        List<String> problems = new ArrayList<>();
        for (GroupLayout g : ALL) {
            String name = g.name().orElseThrow();
            Btf.StructLayout s = btf.struct(name);
            if (s == null) {
                problems.add("struct " + name + " is missing from the BPF object");
                continue;
            }
            if (s.size() != g.byteSize())
                problems.add("struct " + name + ": C size " + s.size() + ", Java size " + g.byteSize());
            for (MemoryLayout m : g.memberLayouts()) {
                if (m.name().isEmpty()) continue;
                String member = m.name().get();
                Long cOff = s.offsets().get(member);
                long jOff = offset(g, member);
                if (cOff == null) problems.add(name + "." + member + " exists only in Java");
                else if (cOff != jOff) problems.add(name + "." + member + ": C offset " + cOff + ", Java offset " + jOff);
            }
            for (String member : s.offsets().keySet())
                if (g.memberLayouts().stream().noneMatch(m -> m.name().orElse("").equals(member)))
                    problems.add(name + "." + member + " exists only in C");
        }
        return problems;
    }
}

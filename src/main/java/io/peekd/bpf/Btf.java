package io.peekd.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/** Read access to struct layouts in a BTF blob (owned by its BPF object). */
public final class Btf {
    private static final int KIND_STRUCT = 4;
    private final MemorySegment btf;

    Btf(MemorySegment btf) {
        this.btf = btf;
    }

    /** A struct's size and member offsets in bytes, or null when the struct is absent. */
    public record StructLayout(String name, long size, Map<String, Long> offsets) {
    }

    public StructLayout struct(String name) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment n = a.allocateFrom(name);
            int id = BpfObject.callInt(() -> (int) Libbpf.BTF_FIND_BY_NAME_KIND.invokeExact(btf, n, KIND_STRUCT));
            if (id < 0) return null;
            // struct btf_type { u32 name_off; u32 info; u32 size; } then vlen x btf_member { u32 name_off, type, offset }
            MemorySegment t = BpfObject.call(() -> (MemorySegment) Libbpf.BTF_TYPE_BY_ID.invokeExact(btf, id));
            t = t.reinterpret(12);
            int info = t.get(ValueLayout.JAVA_INT_UNALIGNED, 4);
            long size = Integer.toUnsignedLong(t.get(ValueLayout.JAVA_INT_UNALIGNED, 8));
            int vlen = info & 0xffff;
            boolean kflag = (info >>> 31) != 0;
            MemorySegment members = t.reinterpret(12 + 12L * vlen).asSlice(12);
            Map<String, Long> offsets = new LinkedHashMap<>();
            for (int i = 0; i < vlen; i++) {
                int nameOff = members.get(ValueLayout.JAVA_INT_UNALIGNED, i * 12L);
                int bitOff = members.get(ValueLayout.JAVA_INT_UNALIGNED, i * 12L + 8);
                if (kflag) bitOff &= 0xffffff;
                MemorySegment np = BpfObject.call(() -> (MemorySegment) Libbpf.BTF_NAME_BY_OFFSET.invokeExact(btf, nameOff));
                offsets.put(Native.cString(np), bitOff / 8L);
            }
            return new StructLayout(name, size, offsets);
        }
    }
}

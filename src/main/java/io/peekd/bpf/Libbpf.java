package io.peekd.bpf;

import static io.peekd.bpf.Native.INT;
import static io.peekd.bpf.Native.LONG;
import static io.peekd.bpf.Native.PTR;

import java.lang.foreign.FunctionDescriptor;
import java.lang.invoke.MethodHandle;

/** Downcall handles for the slice of libbpf peekd uses. libbpf >= 1.0 returns -errno from int functions. */
final class Libbpf {
    private Libbpf() {
    }

    static final MethodHandle OBJECT_OPEN_MEM = Native.bpf("bpf_object__open_mem",
            FunctionDescriptor.of(PTR, PTR, LONG, PTR), Native.CAPTURE_ERRNO);
    static final MethodHandle OBJECT_LOAD = Native.bpf("bpf_object__load", FunctionDescriptor.of(INT, PTR));
    static final MethodHandle OBJECT_CLOSE = Native.bpf("bpf_object__close", FunctionDescriptor.ofVoid(PTR));
    static final MethodHandle OBJECT_BTF = Native.bpf("bpf_object__btf", FunctionDescriptor.of(PTR, PTR));
    static final MethodHandle FIND_PROGRAM = Native.bpf("bpf_object__find_program_by_name",
            FunctionDescriptor.of(PTR, PTR, PTR));
    static final MethodHandle FIND_MAP = Native.bpf("bpf_object__find_map_by_name",
            FunctionDescriptor.of(PTR, PTR, PTR));
    static final MethodHandle PROGRAM_SET_AUTOLOAD = Native.bpf("bpf_program__set_autoload",
            FunctionDescriptor.of(INT, PTR, Native.LINKER.canonicalLayouts().get("bool")));
    static final MethodHandle PROGRAM_ATTACH = Native.bpf("bpf_program__attach",
            FunctionDescriptor.of(PTR, PTR), Native.CAPTURE_ERRNO);
    static final MethodHandle PROGRAM_ATTACH_CGROUP = Native.bpf("bpf_program__attach_cgroup",
            FunctionDescriptor.of(PTR, PTR, INT), Native.CAPTURE_ERRNO);
    static final MethodHandle PROGRAM_ATTACH_UPROBE_OPTS = Native.bpf("bpf_program__attach_uprobe_opts",
            FunctionDescriptor.of(PTR, PTR, INT, PTR, LONG, PTR), Native.CAPTURE_ERRNO);
    static final MethodHandle LINK_DESTROY = Native.bpf("bpf_link__destroy", FunctionDescriptor.of(INT, PTR));
    static final MethodHandle MAP_FD = Native.bpf("bpf_map__fd", FunctionDescriptor.of(INT, PTR));
    static final MethodHandle MAP_SET_MAX_ENTRIES = Native.bpf("bpf_map__set_max_entries",
            FunctionDescriptor.of(INT, PTR, INT));
    static final MethodHandle NUM_POSSIBLE_CPUS = Native.bpf("libbpf_num_possible_cpus", FunctionDescriptor.of(INT));
    static final MethodHandle MAJOR_VERSION = Native.bpf("libbpf_major_version", FunctionDescriptor.of(INT));
    static final MethodHandle MINOR_VERSION = Native.bpf("libbpf_minor_version", FunctionDescriptor.of(INT));
    static final MethodHandle SET_PRINT = Native.bpf("libbpf_set_print", FunctionDescriptor.of(PTR, PTR));

    static final MethodHandle RING_BUFFER_NEW = Native.bpf("ring_buffer__new",
            FunctionDescriptor.of(PTR, INT, PTR, PTR, PTR), Native.CAPTURE_ERRNO);
    static final MethodHandle RING_BUFFER_POLL = Native.bpf("ring_buffer__poll", FunctionDescriptor.of(INT, PTR, INT));
    static final MethodHandle RING_BUFFER_FREE = Native.bpf("ring_buffer__free", FunctionDescriptor.ofVoid(PTR));

    static final MethodHandle MAP_LOOKUP_BATCH = Native.bpf("bpf_map_lookup_batch",
            FunctionDescriptor.of(INT, INT, PTR, PTR, PTR, PTR, PTR, PTR));
    static final MethodHandle MAP_LOOKUP_ELEM = Native.bpf("bpf_map_lookup_elem", FunctionDescriptor.of(INT, INT, PTR, PTR));
    static final MethodHandle MAP_LOOKUP_AND_DELETE = Native.bpf("bpf_map_lookup_and_delete_elem",
            FunctionDescriptor.of(INT, INT, PTR, PTR));
    static final MethodHandle MAP_UPDATE_ELEM = Native.bpf("bpf_map_update_elem",
            FunctionDescriptor.of(INT, INT, PTR, PTR, LONG));
    static final MethodHandle MAP_DELETE_ELEM = Native.bpf("bpf_map_delete_elem", FunctionDescriptor.of(INT, INT, PTR));

    static final MethodHandle BTF_FIND_BY_NAME_KIND = Native.bpf("btf__find_by_name_kind",
            FunctionDescriptor.of(INT, PTR, PTR, INT));
    static final MethodHandle BTF_TYPE_BY_ID = Native.bpf("btf__type_by_id", FunctionDescriptor.of(PTR, PTR, INT));
    static final MethodHandle BTF_NAME_BY_OFFSET = Native.bpf("btf__name_by_offset", FunctionDescriptor.of(PTR, PTR, INT));
    static final MethodHandle BTF_LOAD_VMLINUX = Native.bpf("btf__load_vmlinux_btf", FunctionDescriptor.of(PTR),
            Native.CAPTURE_ERRNO);
    static final MethodHandle BTF_FREE = Native.bpf("btf__free", FunctionDescriptor.ofVoid(PTR));
}

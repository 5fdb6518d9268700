package io.peekd.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** A loaded map, addressed by its fd. Callers own the key and value buffers. */
public record BpfMap(String name, int fd) {

    /** Receives one key and its value; the segments are only valid during the call. */
    public interface Visitor {
        void visit(MemorySegment key, MemorySegment value);
    }

    /**
     * Reads every entry with BPF_MAP_LOOKUP_BATCH, {@code batch} entries per
     * syscall. {@code valueStride} is the bytes per entry as the kernel lays
     * them out (for per-CPU maps: CPUs x round_up(value_size, 8)).
     */
    public int forEach(int keySize, int valueStride, int batch, Visitor visitor) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment keys = a.allocate((long) keySize * batch, 8);
            MemorySegment values = a.allocate((long) valueStride * batch, 8);
            MemorySegment in = a.allocate(Math.max(8, keySize), 8);
            MemorySegment out = a.allocate(Math.max(8, keySize), 8);
            MemorySegment count = a.allocate(ValueLayout.JAVA_INT);
            boolean first = true;
            int total = 0;
            while (true) {
                count.set(ValueLayout.JAVA_INT, 0, batch);
                MemorySegment inArg = first ? MemorySegment.NULL : in;
                int rc = BpfObject.callInt(() -> (int) Libbpf.MAP_LOOKUP_BATCH.invokeExact(fd, inArg, out, keys, values,
                        count, MemorySegment.NULL));
                int n = count.get(ValueLayout.JAVA_INT, 0);
                if (rc < 0 && rc != -Errno.ENOENT) {
                    if (rc == -Errno.ENOSPC && batch < 1 << 16) return total + forEachLarger(keySize, valueStride, batch * 4, visitor, total);
                    throw BpfException.errno("cannot read map " + name, rc);
                }
                for (int i = 0; i < n; i++)
                    visitor.visit(keys.asSlice((long) i * keySize, keySize), values.asSlice((long) i * valueStride, valueStride));
                total += n;
                if (rc == -Errno.ENOENT) return total;
                MemorySegment.copy(out, 0, in, 0, out.byteSize());
                first = false;
            }
        }
    }

    // A hash bucket holding more entries than the batch returns ENOSPC: restart with a bigger batch.
    private int forEachLarger(int keySize, int valueStride, int batch, Visitor visitor, int alreadyVisited) {
        if (alreadyVisited > 0)
            throw new BpfException("map " + name + ": a hash bucket outgrew the batch mid-scan; raise the batch size");
        return forEach(keySize, valueStride, batch, visitor);
    }

    /** Returns false when the key is absent. */
    public boolean lookup(MemorySegment key, MemorySegment value) {
        int rc = BpfObject.callInt(() -> (int) Libbpf.MAP_LOOKUP_ELEM.invokeExact(fd, key, value));
        if (rc == -Errno.ENOENT) return false;
        if (rc < 0) throw BpfException.errno("lookup in map " + name, rc);
        return true;
    }

    /** Atomically takes an entry out; returns false when the key is absent. */
    public boolean lookupAndDelete(MemorySegment key, MemorySegment value) {
        int rc = BpfObject.callInt(() -> (int) Libbpf.MAP_LOOKUP_AND_DELETE.invokeExact(fd, key, value));
        if (rc == -Errno.ENOENT) return false;
        if (rc < 0) throw BpfException.errno("lookup-and-delete in map " + name, rc);
        return true;
    }

    /** Creates or replaces an entry. */
    public void update(MemorySegment key, MemorySegment value) {
        int rc = BpfObject.callInt(() -> (int) Libbpf.MAP_UPDATE_ELEM.invokeExact(fd, key, value, 0L));
        if (rc < 0) throw BpfException.errno("update in map " + name, rc);
    }

    /** Adds a value to a queue or stack map (they have no keys). */
    public void push(MemorySegment value) {
        int rc = BpfObject.callInt(() -> (int) Libbpf.MAP_UPDATE_ELEM.invokeExact(fd, MemorySegment.NULL, value, 0L));
        if (rc < 0) throw BpfException.errno("push to map " + name, rc);
    }

    /**
     * Maps the values of a {@code BPF_F_MMAPABLE} array into this process, read and write,
     * {@code bytes} from the start (the kernel rounds to whole pages).
     */
    public MappedMap mmap(long bytes) {
        return MappedMap.of(this, bytes);
    }

    public boolean delete(MemorySegment key) {
        int rc = BpfObject.callInt(() -> (int) Libbpf.MAP_DELETE_ELEM.invokeExact(fd, key));
        if (rc == -Errno.ENOENT) return false;
        if (rc < 0) throw BpfException.errno("delete in map " + name, rc);
        return true;
    }
}

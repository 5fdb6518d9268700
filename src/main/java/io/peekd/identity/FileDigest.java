package io.peekd.identity;

import io.peekd.bpf.NativeFile;
import io.peekd.bpf.SysError;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Digests a file through a descriptor we hold, in 1 MiB reads. Reading from the
 * descriptor, not the path, is the point: the bytes are those of the inode
 * the process runs even if the path was replaced meanwhile.
 */
public final class FileDigest {
    static final int CHUNK = 1 << 20;

    private FileDigest() {
    }

    public static String sha256(NativeFile f) throws SysError {
        return hex(f, "SHA-256");
    }

    /** Hex digest with any JDK algorithm (MD5 for dpkg's md5sums, SHA-256, SHA-512). */
    public static String hex(NativeFile f, String algorithm) throws SysError {
        MessageDigest md;
        try {
            md = MessageDigest.getInstance(algorithm);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalArgumentException(algorithm, e);
        }
        byte[] heap = new byte[CHUNK];
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(CHUNK, 64);
            long off = 0;
            while (true) {
                long n = f.pread(buf, off);
                if (n == 0) break;
                MemorySegment.copy(buf, ValueLayout.JAVA_BYTE, 0, heap, 0, (int) n);
                md.update(heap, 0, (int) n);
                off += n;
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }
}

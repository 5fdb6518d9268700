package io.peekd.identity;

import io.peekd.bpf.NativeFile;

/** A file as the kernel names it: device (major, minor) and inode, exactly as statx reports them. */
public record FileId(int major, int minor, long ino) {
    public static FileId of(NativeFile.Stat st) {
        return new FileId(st.devMajor(), st.devMinor(), st.ino());
    }

    public boolean is(NativeFile.Stat st) {
        return st.devMajor() == major && st.devMinor() == minor && st.ino() == ino;
    }
}

package io.peekd.identity;

/**
 * Device numbers come in two encodings. The kernel keeps {@code s_dev} as
 * {@code MAJOR << 20 | MINOR} (what BPF reads from {@code i_sb->s_dev});
 * user space sees {@code st_dev} in glibc's {@code makedev} layout, which
 * splits both numbers around the low byte. Comparing them raw would call
 * every file on /dev/sda2 "replaced".
 */
public final class DevNumbers {
    private static final int MINOR_BITS = 20;
    private static final long MINOR_MASK = (1L << MINOR_BITS) - 1;

    private DevNumbers() {
    }

    public static long kernelMajor(long kdev) {
        return kdev >>> MINOR_BITS;
    }

    public static long kernelMinor(long kdev) {
        return kdev & MINOR_MASK;
    }

    /** glibc {@code gnu_dev_major}. */
    public static long major(long stDev) {
        return ((stDev >>> 8) & 0xFFF) | ((stDev >>> 32) & ~0xFFFL);
    }

    /** glibc {@code gnu_dev_minor}. */
    public static long minor(long stDev) {
        return (stDev & 0xFF) | ((stDev >>> 12) & ~0xFFL);
    }

    /** glibc {@code gnu_dev_makedev}. */
    public static long makedev(long major, long minor) {
        return ((major & 0xFFFFF000L) << 32) | ((major & 0xFFF) << 8) | ((minor & 0xFFFFFF00L) << 12) | (minor & 0xFF);
    }

    /** User-space {@code st_dev} to the kernel's {@code s_dev}. */
    public static long toKernel(long stDev) {
        return (major(stDev) << MINOR_BITS) | (minor(stDev) & MINOR_MASK);
    }

    /** The kernel's {@code s_dev} to user-space {@code st_dev}. */
    public static long toUser(long kdev) {
        return makedev(kernelMajor(kdev), kernelMinor(kdev));
    }
}

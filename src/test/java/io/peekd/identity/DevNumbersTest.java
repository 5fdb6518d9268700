package io.peekd.identity;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DevNumbersTest {
    @Test
    void convertsBetweenTheKernelAndGlibcEncodings() {
        // /dev/sda2 is 8:2; glibc makes it 0x802, the kernel's s_dev is 8 << 20 | 2.
        assertThat(DevNumbers.makedev(8, 2)).isEqualTo(0x802);
        assertThat(DevNumbers.toKernel(0x802)).isEqualTo((8L << 20) | 2);
        assertThat(DevNumbers.toUser((8L << 20) | 2)).isEqualTo(0x802);
        // Numbers that need glibc's high bits: major 300, minor 70000 (NVMe partitions, device mapper).
        long user = DevNumbers.makedev(300, 70000);
        assertThat(DevNumbers.major(user)).isEqualTo(300);
        assertThat(DevNumbers.minor(user)).isEqualTo(70000);
        assertThat(DevNumbers.toUser(DevNumbers.toKernel(user))).isEqualTo(user);
        assertThat(DevNumbers.kernelMajor(DevNumbers.toKernel(user))).isEqualTo(300);
        assertThat(DevNumbers.kernelMinor(DevNumbers.toKernel(user))).isEqualTo(70000);
        // Anonymous devices (btrfs subvolumes, overlayfs, tmpfs) have major 0.
        assertThat(DevNumbers.toKernel(DevNumbers.makedev(0, 45))).isEqualTo(45);
    }
}

package io.peekd.identity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class CgroupIdsTest {

    @TempDir
    Path dir;

    @Test
    void findsTheCgroup2MountWhereverItIs() throws Exception {
        Path mounts = dir.resolve("mounts");
        Files.writeString(mounts, """
                proc /proc proc rw,nosuid,nodev,noexec,relatime 0 0
                cgroup /sys/fs/cgroup/memory cgroup rw,relatime,memory 0 0
                cgroup2 /sys/fs/cgroup/my\\040unified cgroup2 rw,relatime 0 0
                """);
        assertThat(CgroupIds.findCgroup2(mounts)).contains(Path.of("/sys/fs/cgroup/my unified"));
        Files.writeString(mounts, "proc /proc proc rw 0 0\n");
        assertThat(CgroupIds.findCgroup2(mounts)).isEmpty();
        assertThat(CgroupIds.findCgroup2(dir.resolve("missing"))).isEmpty();
    }

    @Test
    void resolvesARealCgroupById() throws Exception {
        CgroupIds ids = CgroupIds.fromMounts();
        Path mount = ids.mount().orElseThrow();
        Path cg = mount.resolve("peekd-ids-" + ProcessHandle.current().pid() + "-" + System.nanoTime());
        Files.createDirectory(cg);
        try {
            long id = TestProcs.ino(cg);
            assertThat(ids.path(id)).contains("/" + cg.getFileName());
            assertThat(ids.path(TestProcs.ino(mount))).contains("/");
            assertThat(ids.path(0)).isEmpty();
            assertThat(ids.path(Long.MAX_VALUE)).isEmpty(); // unknown id, within the rescan limit: no error
        } finally {
            Files.delete(cg);
        }
    }

    @Test
    void withoutCgroup2NothingResolves() {
        assertThat(new CgroupIds(null).path(42)).isEmpty();
        assertThat(new CgroupIds(dir.resolve("nonexistent")).path(42)).isEmpty();
    }
}

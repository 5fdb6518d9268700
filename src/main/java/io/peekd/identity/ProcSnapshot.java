package io.peekd.identity;

/**
 * One consistent reading of a live process from {@code /proc}.
 *
 * @param startTicks start time in clock ticks since boot ({@link ProcFs#NS_PER_TICK})
 * @param comm       the thread-group leader's name (at most 15 bytes)
 * @param exe        null for kernel threads, zombies and unreadable links
 * @param cmdline    null when unreadable; empty argv for kernel threads
 * @param cgroup     the chosen cgroup path ({@link Cgroups#pathOf(String)}), or null
 */
public record ProcSnapshot(int pid, long startTicks, String comm, int ppid, int uid,
                           ProcFs.Exe exe, ProcFs.Cmdline cmdline, String cgroup) {
}

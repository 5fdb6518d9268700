package io.peekd.identity;

/**
 * What a cgroup path says about a process.
 *
 * @param path        the cgroup path, as in {@code /proc/<pid>/cgroup}
 * @param containerId the innermost container's id (64 hex for docker, podman,
 *                    containerd, CRI-O; the name for LXC and machined guests), or null
 * @param runtime     docker, podman, containerd, cri-o, kubernetes, lxc or machined (nspawn, libvirt); null without a container
 * @param unit        the innermost systemd unit (service, scope, socket, mount, swap), or null
 * @param podUid      the Kubernetes pod UID when the path is under kubepods, or null
 */
public record CgroupInfo(String path, String containerId, String runtime, String unit, String podUid) {

    /** What the {@code container} column shows: the container id, else the systemd unit. */
    public String label() {
        return containerId != null ? containerId : unit;
    }
}

package io.peekd.identity;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class CgroupsTest {

    static final String ID = "3f9a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8";
    static final String ID2 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    static final String POD = "1b2c3d4e-5f60-7182-93a4-b5c6d7e8f901";
    static final String POD_ = POD.replace('-', '_');

    private static CgroupInfo parse(String path) {
        return Cgroups.parse(path);
    }

    @Test
    void dockerWithTheSystemdDriver() {
        CgroupInfo c = Cgroups.fromProcText("0::/system.slice/docker-" + ID + ".scope\n");
        assertThat(c).isEqualTo(new CgroupInfo("/system.slice/docker-" + ID + ".scope", ID, "docker",
                "docker-" + ID + ".scope", null));
        assertThat(c.label()).isEqualTo(ID);
    }

    @Test
    void dockerWithTheCgroupfsDriverOnCgroupV1() {
        String text = """
                12:pids:/docker/%1$s
                11:memory:/docker/%1$s
                4:cpu,cpuacct:/docker/%1$s
                1:name=systemd:/docker/%1$s
                """.formatted(ID);
        CgroupInfo c = Cgroups.fromProcText(text);
        assertThat(c.path()).isEqualTo("/docker/" + ID);
        assertThat(c.containerId()).isEqualTo(ID);
        assertThat(c.runtime()).isEqualTo("docker");
        assertThat(c.unit()).isNull();
    }

    @Test
    void podmanRootfulRootlessAndItsMonitor() {
        CgroupInfo rootful = parse("/machine.slice/libpod-" + ID + ".scope/container");
        assertThat(rootful.containerId()).isEqualTo(ID);
        assertThat(rootful.runtime()).isEqualTo("podman");

        CgroupInfo rootless = parse("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + ID
                + ".scope/container");
        assertThat(rootless.containerId()).isEqualTo(ID);
        assertThat(rootless.runtime()).isEqualTo("podman");
        assertThat(rootless.unit()).isEqualTo("libpod-" + ID + ".scope");

        CgroupInfo conmon = parse("/machine.slice/libpod-conmon-" + ID + ".scope");
        assertThat(conmon.containerId()).isNull();
        assertThat(conmon.unit()).isEqualTo("libpod-conmon-" + ID + ".scope");

        assertThat(parse("/libpod_parent/libpod-" + ID).containerId()).isEqualTo(ID);
    }

    @Test
    void kubernetesWithContainerdAndTheSystemdDriver() {
        CgroupInfo c = parse("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod" + POD_
                + ".slice/cri-containerd-" + ID + ".scope");
        assertThat(c.containerId()).isEqualTo(ID);
        assertThat(c.runtime()).isEqualTo("containerd");
        assertThat(c.podUid()).isEqualTo(POD);
    }

    @Test
    void kubernetesWithTheCgroupfsDriver() {
        CgroupInfo burstable = parse("/kubepods/burstable/pod" + POD + "/" + ID);
        assertThat(burstable.containerId()).isEqualTo(ID);
        assertThat(burstable.runtime()).isEqualTo("kubernetes");
        assertThat(burstable.podUid()).isEqualTo(POD);

        CgroupInfo guaranteed = parse("/kubepods/pod" + POD + "/" + ID2);
        assertThat(guaranteed.containerId()).isEqualTo(ID2);
        assertThat(guaranteed.podUid()).isEqualTo(POD);
    }

    @Test
    void kubernetesWithCriO() {
        CgroupInfo c = parse("/kubepods.slice/kubepods-pod" + POD_ + ".slice/crio-" + ID + ".scope");
        assertThat(c.containerId()).isEqualTo(ID);
        assertThat(c.runtime()).isEqualTo("cri-o");
        assertThat(c.podUid()).isEqualTo(POD);
        assertThat(parse("/kubepods.slice/kubepods-pod" + POD_ + ".slice/crio-conmon-" + ID + ".scope")
                .containerId()).isNull();
    }

    @Test
    void aPodLevelCgroupNamesThePodOnly() {
        CgroupInfo c = parse("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod" + POD_ + ".slice");
        assertThat(c.containerId()).isNull();
        assertThat(c.runtime()).isEqualTo("kubernetes");
        assertThat(c.podUid()).isEqualTo(POD);
        assertThat(c.label()).isNull();
    }

    @Test
    void lxcNewAndOldLayouts() {
        CgroupInfo c = parse("/lxc.payload.web01/system.slice/nginx.service");
        assertThat(c.containerId()).isEqualTo("web01");
        assertThat(c.runtime()).isEqualTo("lxc");
        assertThat(c.unit()).isEqualTo("nginx.service");
        assertThat(c.label()).isEqualTo("web01");

        assertThat(parse("/lxc/build-box").containerId()).isEqualTo("build-box");
        assertThat(parse("/lxc.monitor.web01").containerId()).isNull();
    }

    @Test
    void theInnermostContainerWins() {
        CgroupInfo c = parse("/lxc.payload.ci/system.slice/docker-" + ID + ".scope");
        assertThat(c.containerId()).isEqualTo(ID);
        assertThat(c.runtime()).isEqualTo("docker");
    }

    @Test
    void nspawnMachinesAreUnescaped() {
        CgroupInfo c = parse("/machine.slice/machine-debian\\x2dtest.scope/payload/system.slice/ssh.service");
        assertThat(c.containerId()).isEqualTo("debian-test");
        assertThat(c.runtime()).isEqualTo("machined");
        assertThat(c.unit()).isEqualTo("ssh.service");
    }

    @Test
    void systemdUnits() {
        assertThat(parse("/system.slice/nginx.service").unit()).isEqualTo("nginx.service");
        assertThat(parse("/system.slice/nginx.service").label()).isEqualTo("nginx.service");
        assertThat(parse("/user.slice/user-1000.slice/session-3.scope").unit()).isEqualTo("session-3.scope");
        assertThat(parse("/user.slice/user-1000.slice/user@1000.service/app.slice/"
                + "app-org.gnome.Terminal.slice/vte-spawn-5a1b.scope").unit()).isEqualTo("vte-spawn-5a1b.scope");
        assertThat(parse("/user.slice/user-1000.slice/user@1000.service/app.slice/dbus.service").unit())
                .isEqualTo("dbus.service");
        assertThat(parse("/user.slice/user-1000.slice/user@1000.service/init.scope").unit()).isEqualTo("init.scope");
        // A service that delegates sub-cgroups is still that service.
        assertThat(parse("/system.slice/containerd.service/runner").unit()).isEqualTo("containerd.service");
        assertThat(parse("/system.slice/systemd-journald.socket").unit()).isEqualTo("systemd-journald.socket");
        assertThat(parse("/user.slice").unit()).isNull();
        assertThat(parse("/system.slice/docker-" + ID + ".scope").containerId()).isEqualTo(ID);
    }

    @Test
    void picksTheHierarchyThatSaysSomething() {
        String hybrid = """
                12:pids:/user.slice/user-1000.slice/session-3.scope
                4:memory:/user.slice/user-1000.slice/session-3.scope
                1:name=systemd:/user.slice/user-1000.slice/session-3.scope
                0::/user.slice/user-1000.slice/session-3.scope
                """;
        assertThat(Cgroups.pathOf(hybrid)).isEqualTo("/user.slice/user-1000.slice/session-3.scope");

        String hybridEmptyV2 = "5:cpu:/other\n1:name=systemd:/system.slice/cron.service\n0::/\n";
        assertThat(Cgroups.pathOf(hybridEmptyV2)).isEqualTo("/system.slice/cron.service");

        assertThat(Cgroups.pathOf("0::/\n")).isEqualTo("/");
        assertThat(Cgroups.pathOf("0::/a:b\n")).isEqualTo("/a:b"); // ':' is legal in a cgroup name
        assertThat(Cgroups.pathOf("")).isNull();
        assertThat(Cgroups.pathOf("garbage without colons\n")).isNull();
        assertThat(Cgroups.pathOf(null)).isNull();
    }

    @Test
    void nothingToSay() {
        assertThat(parse("/")).isEqualTo(new CgroupInfo("/", null, null, null, null));
        assertThat(parse(null)).isEqualTo(new CgroupInfo(null, null, null, null, null));
        assertThat(parse("/system.slice/docker-" + ID.substring(1) + ".scope").containerId()).isNull();
        assertThat(parse("/docker/not-hex").containerId()).isNull();
        assertThat(parse("/process_api/c1f29299a806d14f82d3dbc5eeac9165").containerId()).isNull();
    }
}

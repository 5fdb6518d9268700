package io.peekd.systemd;

import io.peekd.config.Config;
import io.peekd.config.ConfigLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The hardened {@code peekd.service}. The daemon runs as root but keeps only
 * the capabilities it was shown to need (see {@link #CAPABILITIES}) and sees
 * the file system read-only except its own three directories.
 */
public final class UnitFile {
    /**
     * CAP_BPF, CAP_PERFMON: load and attach the tracing programs; CAP_NET_ADMIN:
     * attach the cgroup sock_addr hooks (without it the load fails with EPERM);
     * CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH: read /proc/PID/exe and hash
     * executables of every user; CAP_SYS_ADMIN: fanotify_init for the hash
     * cache (EPERM without it); CAP_SYS_RESOURCE: RLIMIT_MEMLOCK for maps on
     * kernels before 5.11. LifecycleKernelTest runs the daemon under exactly this set.
     */
    public static final List<String> CAPABILITIES = List.of("CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN", "CAP_SYS_PTRACE",
            "CAP_DAC_READ_SEARCH", "CAP_SYS_ADMIN", "CAP_SYS_RESOURCE");
    public static final String NAME = "peekd.service";

    private UnitFile() {
    }

    /**
     * The unit text. {@code exec} is the launcher (e.g. /usr/bin/peekd);
     * {@code configFile} is passed with --config unless it is the default.
     */
    public static String render(Path exec, Path configFile, Config config) {
        var p = config.paths();
        List<String> managed = new ArrayList<>();
        Set<String> rw = new LinkedHashSet<>();
        managed(p.runDir(), "/run/", "RuntimeDirectory", managed);
        managed(p.dataDir(), "/var/lib/", "StateDirectory", managed);
        managed(p.logDir(), "/var/log/", "LogsDirectory", managed);
        for (Path d : List.of(p.dataDir(), p.runDir(), p.logDir())) rw.add(d.toAbsolutePath().normalize().toString());
        String execStart = exec + " daemon" + (configFile.equals(ConfigLoader.DEFAULT_PATH) ? "" : " --config " + configFile);
        StringBuilder u = new StringBuilder();
        u.append("""
                # Written by `peekd systemd`. Edit with `systemctl edit peekd` so that running
                # `peekd systemd` again does not undo your changes.
                [Unit]
                Description=peekd: which executable moved which network bytes
                Documentation=man:peekd(1) man:peekd-daemon(1)
                After=local-fs.target

                [Service]
                Type=notify
                NotifyAccess=main
                ExecStart=%s
                ExecReload=/bin/kill -HUP $MAINPID
                Restart=on-failure
                RestartSec=5s
                TimeoutStartSec=60s
                TimeoutStopSec=10s
                WatchdogSec=60s
                # The JVM exits with 143 if SIGTERM arrives before the daemon has set up its handler.
                SuccessExitStatus=143

                # Root, but only with these capabilities (see `peekd doctor`).
                CapabilityBoundingSet=%s
                AmbientCapabilities=
                NoNewPrivileges=yes

                # Read-only system, private /tmp (sqlite-jdbc unpacks its library there), own dirs writable.
                ProtectSystem=strict
                ProtectHome=read-only
                PrivateTmp=yes
                ReadWritePaths=%s
                %s
                ConfigurationDirectory=peekd
                UMask=0077

                ProtectKernelModules=yes
                ProtectKernelLogs=yes
                ProtectClock=yes
                ProtectHostname=yes
                RestrictRealtime=yes
                RestrictSUIDSGID=yes
                LockPersonality=yes
                RestrictNamespaces=yes
                SystemCallArchitectures=native
                # Unix for sd_notify and D-Bus, inet for the Prometheus and web ports, netlink for the JDK.
                RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK
                # No MemoryDenyWriteExecute: the JVM's JIT writes code.

                [Install]
                WantedBy=multi-user.target
                """.formatted(execStart, String.join(" ", CAPABILITIES), String.join(" ", rw), String.join("\n", managed)));
        return u.toString();
    }

    /** systemd creates /run/peekd etc. itself when the dir is under the standard roots. */
    private static void managed(Path dir, String root, String key, List<String> out) {
        String d = dir.toAbsolutePath().normalize().toString();
        if (d.startsWith(root) && d.length() > root.length()) out.add(key + "=" + d.substring(root.length()));
    }

    /** The capabilities of a unit's CapabilityBoundingSet line. */
    public static List<String> capabilities(String unitText) {
        for (String l : unitText.split("\n"))
            if (l.startsWith("CapabilityBoundingSet=")) return List.of(l.substring(22).trim().split("\\s+"));
        return List.of();
    }
}

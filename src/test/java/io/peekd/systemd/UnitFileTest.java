package io.peekd.systemd;

import static org.assertj.core.api.Assertions.assertThat;

import io.peekd.cli.Main;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UnitFileTest {
    private static String run(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int rc = Main.run(new PrintWriter(out), new PrintWriter(err), args);
        assertThat(rc).as(err.toString()).isZero();
        return out.toString();
    }

    @Test
    void writesAHardenedNotifyUnitAndSaysSo(@TempDir Path dir) throws Exception {
        Path cfg = dir.resolve("config.toml");
        Files.writeString(cfg, "[paths]\ndata_dir = \"/var/lib/peekd-x\"\nrun_dir = \"/run/peekd-x\"\nlog_dir = \"" + dir + "/log\"\n");
        String said = run("systemd", "--config", cfg.toString(), "--unit-dir", dir.resolve("units").toString(),
                "--exec", "/opt/peekd/bin/peekd", "--no-reload");
        Path unit = dir.resolve("units/peekd.service");
        assertThat(said).contains("wrote " + unit, "CAP_BPF", "systemctl enable --now peekd");
        String u = Files.readString(unit);
        assertThat(u.lines()).contains("Type=notify", "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict",
                "ProtectHome=read-only", "ExecReload=/bin/kill -HUP $MAINPID", "WatchdogSec=60s",
                "ExecStart=/opt/peekd/bin/peekd daemon --config " + cfg,
                "ReadWritePaths=/var/lib/peekd-x /run/peekd-x " + dir + "/log",
                "RuntimeDirectory=peekd-x", "StateDirectory=peekd-x");
        // A log dir outside /var/log is not systemd-managed: no LogsDirectory for it.
        assertThat(u).doesNotContain("LogsDirectory=");
        assertThat(UnitFile.capabilities(u)).containsExactlyElementsOf(UnitFile.CAPABILITIES)
                .contains("CAP_BPF", "CAP_PERFMON", "CAP_NET_ADMIN", "CAP_SYS_RESOURCE", "CAP_DAC_READ_SEARCH", "CAP_SYS_PTRACE");
        assertThat(Files.list(dir.resolve("units"))).hasSize(1);
    }

    @Test
    void defaultConfigGivesTheStandardDirectoriesAndNoConfigFlag() {
        String u = run("systemd", "--print", "--exec", "/usr/bin/peekd");
        assertThat(u.lines()).contains("ExecStart=/usr/bin/peekd daemon", "RuntimeDirectory=peekd", "StateDirectory=peekd",
                "LogsDirectory=peekd", "ReadWritePaths=/var/lib/peekd /run/peekd /var/log/peekd");
    }
}

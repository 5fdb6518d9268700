package io.peekd.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The keys of rollups, maintenance, the reader group and [database.server]. */
class StoreOpsConfigTest {

    @TempDir
    Path dir;

    private Config load(String toml) throws Exception {
        return ConfigLoader.load(Files.writeString(dir.resolve("c.toml"), toml));
    }

    private String error(String toml) throws Exception {
        Path f = Files.writeString(dir.resolve("c.toml"), toml);
        return assertThatThrownBy(() -> ConfigLoader.load(f)).isInstanceOf(ConfigException.class)
                .actual().getMessage();
    }

    @Test
    void aMirrorAndRollupRetentionLoad() throws Exception {
        Config c = load("""
                [database]
                retention_days = 7
                rollup_minute_days = 7
                maintenance_interval = "10m"

                [database.server]
                type = "postgresql"
                host = "db.internal"
                credentials_file = "/etc/peekd/pg.toml"
                """);
        assertThat(c.database().rollupMinuteDays()).isEqualTo(7);
        assertThat(c.database().rollupHourDays()).isEqualTo(730);
        assertThat(c.database().maintenanceInterval()).isEqualTo(Duration.ofMinutes(10));
        assertThat(c.database().server().enabled()).isTrue();
        assertThat(c.database().server().effectivePort()).isEqualTo(5432);
        assertThat(c.database().server().credentialsFile()).isEqualTo(Path.of("/etc/peekd/pg.toml"));
        assertThat(load("[database.server]\ntype = \"mariadb\"\n").database().server().effectivePort()).isEqualTo(3306);
    }

    @Test
    void mistakesAreNamedWithKeyAndLine() throws Exception {
        assertThat(error("""
                [database]
                retention_days = 100
                """)).contains("c.toml:2: database.retention_days").contains("rollup_minute_days = 90")
                .contains("shorter than the raw windows");
        assertThat(error("""
                [database.server]
                type = "oracle"
                """)).contains("c.toml:2: database.server.type").contains("\"postgresql\"");
        assertThat(error("""
                [database.server]
                tabel = "x"
                """)).contains("c.toml:2: database.server.tabel").contains("did you mean table?");
        assertThat(error("""
                [database.server]
                table = "flows; drop table x"
                """)).contains("database.server.table").contains("letters, digits and _");
        assertThat(error("""
                [database]
                enabled = false
                [database.server]
                type = "mysql"
                """)).contains("database.server.type").contains("needs database.enabled = true");
        assertThat(error("""
                [database]
                server = 5
                """)).contains("database.server").contains("expected a table [database.server]");
        assertThat(error("""
                [database]
                maintenance_interval = "5s"
                """)).contains("database.maintenance_interval").contains("1m to 1d");
    }
}

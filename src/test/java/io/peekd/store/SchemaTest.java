package io.peekd.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchemaTest {

    @TempDir
    Path dir;

    private static Connection raw(Path file) throws SQLException {
        Sqlite.prepareNativeTmpdir(file.getParent()); // keep the driver out of /tmp here too
        return DriverManager.getConnection("jdbc:sqlite:" + file);
    }

    private static List<String> tables(Path file) throws SQLException {
        List<String> names = new ArrayList<>();
        try (Connection c = raw(file); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")) {
            while (rs.next()) {
                names.add(rs.getString(1));
            }
        }
        return names;
    }

    private static int pragma(Path file, String name) throws SQLException {
        try (Connection c = raw(file); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("PRAGMA " + name)) {
            return rs.next() ? rs.getInt(1) : -1;
        }
    }

    @Test
    void anEmptyFileIsMigratedToTheCurrentVersionAndReopeningKeepsIt() throws Exception {
        Path db = dir.resolve("peekd.db");
        Files.createFile(db); // zero bytes, as a failed earlier start might leave it
        Store.open(db).close();
        assertThat(tables(db)).contains("alerts", "exes", "flow_windows", "dests", "idents")
                .containsAll(List.of("rollup_minute", "rollup_hour", "rollup_day", "rollup_idents", "outbox", "meta"));
        // Set before the first table, so that `peekd db vacuum` can work in small steps.
        assertThat(pragma(db, "auto_vacuum")).isEqualTo(2);
        assertThat(pragma(db, "user_version")).isEqualTo(Schema.CURRENT);
        assertThat(pragma(db, "application_id")).isEqualTo(Schema.APPLICATION_ID);
        Store.open(db).close();
        assertThat(pragma(db, "user_version")).isEqualTo(Schema.CURRENT);
        try (Reader r = Reader.open(db)) {
            assertThat(r.stats().flows()).isZero();
        }
    }

    @Test
    void aDatabaseFromANewerPeekdIsRefusedAndLeftAlone() throws Exception {
        Path db = dir.resolve("peekd.db");
        Store.open(db).close();
        try (Connection c = raw(db); Statement st = c.createStatement()) {
            st.execute("PRAGMA user_version = " + (Schema.CURRENT + 1));
        }
        assertThatThrownBy(() -> Store.open(db)).isInstanceOf(StoreException.class)
                .hasMessageContaining("schema version " + (Schema.CURRENT + 1))
                .hasMessageContaining("newer peekd");
        assertThatThrownBy(() -> Reader.open(db)).isInstanceOf(StoreException.class)
                .hasMessageContaining("newer peekd");
        assertThat(pragma(db, "user_version")).isEqualTo(Schema.CURRENT + 1);
        // The refusal released the file: after a downgrade by hand it opens again.
        try (Connection c = raw(db); Statement st = c.createStatement()) {
            st.execute("PRAGMA user_version = " + Schema.CURRENT);
        }
        Store.open(db).close();
    }

    @Test
    void someoneElsesDatabaseIsRefusedAndLeftAlone() throws Exception {
        Path db = dir.resolve("other.db");
        try (Connection c = raw(db); Statement st = c.createStatement()) {
            st.execute("CREATE TABLE notes (t TEXT)");
            st.execute("INSERT INTO notes VALUES ('keep me')");
        }
        assertThatThrownBy(() -> Store.open(db)).isInstanceOf(StoreException.class)
                .hasMessageContaining("not a peekd one");
        assertThat(tables(db)).containsExactly("notes");

        Path tagged = dir.resolve("tagged.db");
        try (Connection c = raw(tagged); Statement st = c.createStatement()) {
            st.execute("PRAGMA application_id = 42");
        }
        assertThatThrownBy(() -> Store.open(tagged)).isInstanceOf(StoreException.class)
                .hasMessageContaining("application_id 42");
    }

    @Test
    void migrationsRunStepByStepAndAFailedStepKeepsTheOldVersion() throws Exception {
        Path db = dir.resolve("steps.db");
        List<Schema.Migration> two = new ArrayList<>(Schema.MIGRATIONS);
        two.add(new Schema.Migration(two.size() + 1, "add a column",
                List.of("ALTER TABLE flow_windows ADD COLUMN note TEXT")));
        List<Schema.Migration> broken = new ArrayList<>(two);
        broken.add(new Schema.Migration(broken.size() + 1, "broken",
                List.of("CREATE TABLE half (x INTEGER)", "THIS IS NOT SQL")));

        try (Connection c = raw(db)) {
            Schema.migrate(c, db);
            assertThat(Schema.userVersion(c)).isEqualTo(Schema.CURRENT);
            Schema.migrate(c, db, two);
            assertThat(Schema.userVersion(c)).isEqualTo(Schema.CURRENT + 1);
            assertThatThrownBy(() -> Schema.migrate(c, db, broken)).isInstanceOf(StoreException.class)
                    .hasMessageContaining("to schema version " + (Schema.CURRENT + 2))
                    .hasMessageContaining("left at version " + (Schema.CURRENT + 1));
            assertThat(Schema.userVersion(c)).isEqualTo(Schema.CURRENT + 1);
        }
        assertThat(tables(db)).doesNotContain("half");
        try (Connection c = raw(db); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pragma_table_info('flow_windows') WHERE name = 'note'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(1);
        }
        // This build knows only version CURRENT, so the migrated file is now "newer".
        assertThatThrownBy(() -> Store.open(db)).hasMessageContaining("newer peekd");
    }

    @Test
    void readerRefusesAFileTheDaemonHasNotInitialised() throws Exception {
        Path db = dir.resolve("empty.db");
        Files.createFile(db);
        assertThatThrownBy(() -> Reader.open(db)).isInstanceOf(StoreException.class)
                .hasMessageContaining("has not created its tables");
    }
}

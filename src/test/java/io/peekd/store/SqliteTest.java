package io.peekd.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteTest {

    @TempDir
    Path dir;

    @Test
    void privateDirIsCreatedOwnerOnly() throws Exception {
        Path p = Sqlite.privateDir(dir.resolve("tmp"));
        assertThat(Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)).isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).isEqualTo("rwx------");
    }

    @Test
    void aLooseExistingDirIsTightened() throws Exception {
        Path p = Files.createDirectory(dir.resolve("tmp"));
        Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxrwxrwx"));
        Sqlite.privateDir(p);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).isEqualTo("rwx------");
    }

    @Test
    void aSymlinkOrSomeoneElsesDirIsRefused() throws Exception {
        Path target = Files.createDirectory(dir.resolve("elsewhere"));
        Path link = Files.createSymbolicLink(dir.resolve("tmp"), target);
        assertThatThrownBy(() -> Sqlite.privateDir(link)).isInstanceOf(StoreException.class)
                .hasMessageContaining("symlink");

        Path foreign = Files.createDirectory(dir.resolve("foreign"));
        Files.setAttribute(foreign, "unix:uid", 65534);
        assertThatThrownBy(() -> Sqlite.privateDir(foreign)).isInstanceOf(StoreException.class)
                .hasMessageContaining("owned by uid 65534");
    }

    @Test
    void pathsThatSqliteJdbcWouldMisreadAreRefused() {
        assertThatThrownBy(() -> Sqlite.url(dir.resolve("a?mode=ro"))).isInstanceOf(StoreException.class);
        assertThat(Sqlite.url(dir.resolve("peekd.db"))).isEqualTo("jdbc:sqlite:" + dir.resolve("peekd.db"));
    }

    @Test
    void theNativeLibraryIsMappedFromAPrivateDirNotTheSharedTmp() throws Exception {
        Store.open(dir.resolve("data/peekd.db")).close();
        String tmpdir = System.getProperty(Sqlite.TMPDIR_PROPERTY);
        assertThat(tmpdir).isNotNull();
        // Whichever Store of this JVM came first chose the directory; it is always <data dir>/tmp.
        assertThat(Path.of(tmpdir).getFileName().toString()).isEqualTo("tmp");
        String mapped = Files.readAllLines(Path.of("/proc/self/maps")).stream()
                .filter(l -> l.contains("libsqlitejdbc"))
                .map(l -> l.substring(l.indexOf('/')).replace(" (deleted)", ""))
                .findFirst().orElseThrow();
        assertThat(Path.of(mapped).getParent()).isEqualTo(Path.of(tmpdir));
        assertThat(Path.of(mapped).getParent()).isNotEqualTo(Path.of(System.getProperty("java.io.tmpdir")));
    }
}

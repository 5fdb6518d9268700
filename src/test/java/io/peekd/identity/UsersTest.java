package io.peekd.identity;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;

import static org.assertj.core.api.Assertions.assertThat;

class UsersTest {

    @TempDir
    Path dir;

    @Test
    void theRealPasswdFile() {
        Users users = new Users();
        assertThat(users.name(0)).isEqualTo("root");
        assertThat(users.lookup(0)).contains("root");
    }

    @Test
    void unknownUidsBecomeTheirNumber() throws Exception {
        Path passwd = dir.resolve("passwd");
        Files.writeString(passwd, "root:x:0:0:root:/root:/bin/bash\n");
        Users users = new Users(passwd);
        assertThat(users.lookup(4711)).isEmpty();
        assertThat(users.name(4711)).isEqualTo("4711");
        assertThat(users.name(-2)).isEqualTo("4294967294"); // uids are unsigned
    }

    @Test
    void skipsMalformedLinesAndTheFirstEntryWins() throws Exception {
        Path passwd = dir.resolve("passwd");
        Files.writeString(passwd, """
                # comment
                root:x:0:0:root:/root:/bin/bash
                broken line
                :x:5:5::/:/bin/false
                alice:x:notanumber:1::/:/bin/sh
                toor:x:0:0:second root:/root:/bin/sh
                bob:x:1001:1001:Bob, Room 1:/home/bob:/bin/bash
                +nis-compat
                carol:x:4294967294:100::/:/bin/sh
                """);
        Users users = new Users(passwd);
        assertThat(users.name(0)).isEqualTo("root");
        assertThat(users.name(1001)).isEqualTo("bob");
        assertThat(users.name(5)).isEqualTo("5");
        assertThat(users.name(-2)).isEqualTo("carol");
    }

    @Test
    void rereadsWhenTheFileIsReplaced() throws Exception {
        Path passwd = dir.resolve("passwd");
        Files.writeString(passwd, "root:x:0:0:root:/root:/bin/bash\n");
        Users users = new Users(passwd);
        assertThat(users.name(1000)).isEqualTo("1000");

        // useradd writes a new file and renames it over the old one
        Path tmp = dir.resolve("passwd+");
        Files.writeString(tmp, "root:x:0:0:root:/root:/bin/bash\ndave:x:1000:1000::/home/dave:/bin/bash\n");
        Files.move(tmp, passwd, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        assertThat(users.name(1000)).isEqualTo("dave");

        // a rename of a user, in place
        Files.writeString(passwd, "root:x:0:0:root:/root:/bin/bash\nerin:x:1000:1000::/home/erin:/bin/bash\n");
        Files.setLastModifiedTime(passwd, FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        assertThat(users.name(1000)).isEqualTo("erin");
    }

    @Test
    void aMissRereadsEvenWhenTheFileLooksUnchanged() throws Exception {
        Path passwd = dir.resolve("passwd");
        Files.writeString(passwd, "root:x:0:0:root:/root:/bin/bash\nfrank:x:1000:1000::/:/bin/sh\n");
        FileTime mtime = Files.getLastModifiedTime(passwd);
        Users users = new Users(passwd, 0);
        assertThat(users.name(1000)).isEqualTo("frank");
        assertThat(users.name(1001)).isEqualTo("1001");

        // Same size, same inode, same mtime: only a re-read on the miss can find grace.
        Files.writeString(passwd, "root:x:0:0:root:/root:/bin/bash\ngrace:x:1001:1000::/:/bin/sh\n",
                StandardOpenOption.TRUNCATE_EXISTING);
        Files.setLastModifiedTime(passwd, mtime);
        assertThat(users.name(1000)).isEqualTo("frank"); // a hit is served from the cache
        assertThat(users.name(1001)).isEqualTo("grace");
    }

    @Test
    void aMissingFileGivesNumbersAndIsPickedUpLater() throws Exception {
        Path passwd = dir.resolve("passwd");
        Users users = new Users(passwd);
        assertThat(users.name(0)).isEqualTo("0");
        Files.writeString(passwd, "root:x:0:0:root:/root:/bin/bash\n");
        assertThat(users.name(0)).isEqualTo("root");
        Files.delete(passwd);
        assertThat(users.name(0)).isEqualTo("root"); // a file being rewritten must not forget everyone
    }
}

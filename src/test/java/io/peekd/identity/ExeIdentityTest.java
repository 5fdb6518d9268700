package io.peekd.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExeIdentityTest {
    @TempDir
    Path dir;

    @Test
    void warnsWhenTheFdCacheDoesNotFitUnderTheOpenFileLimit() throws Exception {
        assertThat(ExeIdentity.openFileLimit(Path.of("/proc/self/limits"))).isPositive();
        Path limits = dir.resolve("limits");
        Files.writeString(limits, """
                Limit                     Soft Limit           Hard Limit           Units
                Max open files            1024                 524288               files
                """);
        assertThat(ExeIdentity.openFileLimit(limits)).isEqualTo(1024);
        long soft = ExeIdentity.openFileLimit(Path.of("/proc/self/limits"));
        List<String> errors = new ArrayList<>();
        ExeIdentity.checkOpenFileLimit(100, errors::add);
        assertThat(errors).isEmpty();
        ExeIdentity.checkOpenFileLimit((int) Math.min(soft, 1 << 20), errors::add);
        assertThat(errors).singleElement().asString().contains("identity.fd_cache_size").contains("LimitNOFILE");
    }
}

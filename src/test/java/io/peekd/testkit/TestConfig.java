package io.peekd.testkit;

import java.nio.file.Path;

/** Config files for tests: every path peekd writes lives under the test's own directory. */
public final class TestConfig {
    private TestConfig() {
    }

    /** The [paths] table that puts data, run and log directories under {@code dir}. */
    public static String paths(Path dir) {
        return """
                [paths]
                data_dir = "%s/data"
                run_dir = "%s/run"
                log_dir = "%s/log"
                """.formatted(dir, dir, dir);
    }
}

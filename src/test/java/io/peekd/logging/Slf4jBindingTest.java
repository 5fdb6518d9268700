package io.peekd.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * dbus-java, HikariCP and dnsjava log through slf4j. With the wrong slf4j-api on the class
 * path their messages vanished and every command printed a binder warning on stderr.
 */
class Slf4jBindingTest {

    @Test
    void slf4jMessagesReachJavaUtilLoggingAndNothingIsPrintedAboutBinders() {
        PrintStream err = System.err;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        List<LogRecord> seen = new ArrayList<>();
        Handler h = new Handler() {
            @Override
            public void publish(LogRecord r) {
                seen.add(r);
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        Logger jul = Logger.getLogger("peekd.slf4j.check");
        jul.addHandler(h);
        System.setErr(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            org.slf4j.LoggerFactory.getLogger("peekd.slf4j.check").warn("through slf4j");
        } finally {
            System.setErr(err);
            jul.removeHandler(h);
        }
        assertThat(seen).extracting(LogRecord::getMessage).contains("through slf4j");
        assertThat(captured.toString(StandardCharsets.UTF_8)).doesNotContain("SLF4J");
    }
}

package io.peekd.logging;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.logging.Formatter;
import java.util.logging.LogRecord;

/**
 * One JSON object per line: {@code ts, level, logger, thread, msg} and, when
 * there is one, {@code error} with the stack trace. Newlines inside a message
 * are escaped by JSON, so one record is always one line for grep and jq.
 */
final class JsonLineFormatter extends Formatter {
    private static final JsonFactory JSON = new JsonFactory();

    @Override
    public String format(LogRecord r) {
        StringWriter out = new StringWriter(160);
        try (JsonGenerator g = JSON.createGenerator(out)) {
            g.writeStartObject();
            g.writeStringField("ts", Instant.ofEpochMilli(r.getInstant().toEpochMilli()).toString());
            g.writeStringField("level", Levels.name(r.getLevel()));
            g.writeStringField("logger", r.getLoggerName());
            g.writeStringField("thread", Thread.currentThread().getName());
            g.writeStringField("msg", formatMessage(r));
            if (r.getThrown() != null) {
                StringWriter st = new StringWriter();
                r.getThrown().printStackTrace(new PrintWriter(st));
                g.writeStringField("error", st.toString());
            }
            g.writeEndObject();
        } catch (IOException e) {
            return "{\"level\":\"ERROR\",\"msg\":\"unformattable log record\"}\n";
        }
        return out.append('\n').toString();
    }
}

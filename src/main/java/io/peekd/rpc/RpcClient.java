package io.peekd.rpc;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.peekd.flow.FlowRow;
import io.peekd.json.Trees;
import io.peekd.store.Query;
import io.peekd.store.Report;
import io.peekd.store.Totals;

/**
 * The command-line side of the daemon's socket. Each call is one connection: one request
 * line, one JSON answer.
 */
public final class RpcClient {

    private final Path socket;

    private RpcClient(Path socket) {
        this.socket = socket;
    }

    /** A refusal or failure reported by the daemon; the message is for the user. */
    public static final class Failed extends RuntimeException {
        private final String code;

        Failed(String code, String message) {
            super(message);
            this.code = code;
        }

        /** denied, bad_request, failed or busy */
        public String code() {
            return code;
        }
    }

    /**
     * Who the daemon thinks the caller is.
     *
     * @param seesAll false when answers are limited to the caller's own processes
     * @param history false when the daemon keeps no database
     */
    public record Hello(int uid, String user, boolean seesAll, boolean history) {
    }

    /**
     * A query's answer.
     *
     * @param liveRows   rows of the window not stored yet that were added
     * @param incomplete why some windows may be missing, or null
     */
    public record Rows(List<FlowRow> rows, List<Totals> totals, int liveRows, String incomplete, boolean seesAll) {
    }

    /**
     * A client when a daemon answers on {@code socket}, empty when none runs (no socket file,
     * or nobody listening on it). Any other failure is reported, not hidden behind the
     * database fallback.
     */
    public static Optional<RpcClient> connect(Path socket) {
        if (!Files.exists(socket)) {
            return Optional.empty();
        }
        RpcClient c = new RpcClient(socket);
        try {
            c.hello();
            return Optional.of(c);
        } catch (NoDaemon e) {
            return Optional.empty();
        }
    }

    public Hello hello() {
        JsonNode n = call(Wire.NODES.objectNode().put("op", "hello"));
        return new Hello(n.path("uid").asInt(), n.path("user").asText(), "all".equals(n.path("scope").asText()),
                n.path("history").asBoolean());
    }

    public Rows query(Query q, boolean sumBytes) {
        JsonNode n = call(Wire.query(q, sumBytes));
        List<FlowRow> rows = new ArrayList<>();
        n.path("rows").forEach(r -> rows.add(Wire.flowRow(r)));
        List<Totals> totals = new ArrayList<>();
        n.path("totals").forEach(t -> totals.add(Wire.totals(t)));
        return new Rows(rows, totals, n.path("live_rows").asInt(), Wire.text(n, "incomplete"),
                "all".equals(n.path("scope").asText()));
    }

    public Report.Result report(Report.Spec spec) {
        return Wire.result(call(Wire.report(spec)).path("result"));
    }

    /** The answer of a maintenance op (checkpoint, vacuum, stats) as JSON. */
    public JsonNode op(String op) {
        return call(Wire.NODES.objectNode().put("op", op));
    }

    /**
     * The daemon went away between the check and the call: the caller falls back to the
     * database as if none had been running.
     */
    public static final class NoDaemon extends RuntimeException {
        NoDaemon(String message) {
            super(message);
        }
    }

    private JsonNode call(ObjectNode request) {
        SocketChannel ch;
        try {
            ch = SocketChannel.open(StandardProtocolFamily.UNIX);
        } catch (IOException e) {
            throw new Failed("failed", "cannot open a socket: " + e.getMessage());
        }
        try (ch) {
            try {
                ch.connect(UnixDomainSocketAddress.of(socket));
            } catch (IOException e) {
                throw new NoDaemon("no daemon answers on " + socket + ": " + e.getMessage());
            }
            OutputStream out = Channels.newOutputStream(ch);
            out.write(Trees.bytes(request));
            out.write('\n');
            out.flush();
            ch.shutdownOutput();
            InputStream in = Channels.newInputStream(ch);
            byte[] answer = in.readAllBytes();
            if (answer.length == 0) {
                throw new Failed("failed", "the daemon closed the connection without answering (see its error log)");
            }
            JsonNode n = Trees.parse(answer);
            if (!n.path("ok").asBoolean(false)) {
                throw new Failed(n.path("code").asText("failed"), n.path("error").asText(new String(answer, StandardCharsets.UTF_8)));
            }
            return n;
        } catch (IOException e) {
            throw new Failed("failed", "talking to the daemon on " + socket + ": " + e.getMessage());
        }
    }
}

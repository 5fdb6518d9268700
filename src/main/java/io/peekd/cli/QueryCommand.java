package io.peekd.cli;

import io.peekd.config.Config;
import io.peekd.config.Durations;
import io.peekd.flow.FlowRow;
import io.peekd.store.Query;
import io.peekd.store.Reader;
import io.peekd.store.RowJson;
import io.peekd.store.Totals;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import io.peekd.rpc.RpcClient;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "query", mixinStandardHelpOptions = true,
        description = {"List recorded traffic, one row per process, flow and time window.",
                "When the daemon runs, the answer comes through its socket (run_dir/peekd.sock) and includes",
                "the window it has not written yet; users who are not root and not in the reader group",
                "(database.reader_group) see only their own processes. Otherwise the database is read directly.",
                "Example: peekd query --since 1h --name curl --json"})
final class QueryCommand implements Callable<Integer> {
    private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    @Mixin
    ConfigOption config;

    @Option(names = "--since", paramLabel = "AGE", defaultValue = "1h",
            description = "How far back to look: 30s, 15m, 1h, 7d, 2w... (default: ${DEFAULT-VALUE}).")
    String since;

    @Option(names = "--name", paramLabel = "NAME", description = "Only processes with this name (comm).")
    String name;

    @Option(names = "--exe", paramLabel = "PATH", description = "Only this executable path.")
    String exe;

    @Option(names = "--sum-bytes", description = "Sum the traffic per executable instead of listing rows.")
    boolean sumBytes;

    @Option(names = "--stored", description = {"Only what the database holds: skip the daemon's open window",
            "(rows there have no hash verdict or NEW_EXE/NEW_HASH flags yet)."})
    boolean stored;

    @Option(names = "--json", description = "Print a JSON array (stable field names; see README).")
    boolean json;

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0", description = "At most N rows (0: no limit).")
    int limit;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Config c = config.load();
        Instant from;
        try {
            from = Instant.now().minus(Durations.parse(since));
        } catch (IllegalArgumentException e) {
            throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--since: " + e.getMessage());
        }
        PrintWriter out = spec.commandLine().getOut();
        Query q = new Query(from, null, name, exe, limit);
        Optional<RpcClient> rpc = stored ? Optional.empty() : RpcClient.connect(c.paths().socket());
        if (rpc.isPresent()) {
            RpcClient.Rows got;
            try {
                got = rpc.get().query(q, sumBytes);
            } catch (RpcClient.Failed e) {
                throw new IllegalStateException(e.getMessage());
            }
            if (got.incomplete() != null) {
                spec.commandLine().getErr().println("peekd: " + got.incomplete());
            }
            if (!got.seesAll() && !json) {
                spec.commandLine().getErr().println("peekd: showing only your own processes; root and members of"
                        + " the reader group see everyone's");
            }
            if (sumBytes) {
                if (json) out.println(RowJson.totalsToJson(got.totals()));
                else printTotals(out, got.totals());
            } else {
                if (json) out.println(RowJson.toJson(got.rows()));
                else printRows(out, got.rows());
            }
            out.flush();
            return 0;
        }
        if (!Files.exists(c.paths().db())) {
            if (json) out.println("[]");
            else out.println("no data yet: " + c.paths().db() + " does not exist (is the daemon running?)");
            return 0;
        }
        try (Reader r = Reader.open(c.paths().db())) {
            if (sumBytes) {
                List<Totals> totals = r.sumBytes(q);
                if (json) out.println(RowJson.totalsToJson(totals));
                else printTotals(out, totals);
            } else {
                List<FlowRow> rows = r.query(q);
                if (json) out.println(RowJson.toJson(rows));
                else printRows(out, rows);
            }
        }
        out.flush();
        return 0;
    }

    private static void printRows(PrintWriter out, List<FlowRow> rows) {
        String zone = ZoneId.systemDefault().getId();
        Table t = new Table("TIME (" + zone + ")", "EXE", "PID", "PROTO", "REMOTE", "DOMAIN", "SENT", "RECV");
        for (FlowRow r : rows) {
            String remote = r.raddr() == null || r.raddr().isEmpty() ? "-" : r.raddr() + (r.rport() > 0 ? ":" + r.rport() : "");
            t.row(LOCAL.format(r.time().atZone(ZoneId.systemDefault())), r.id().exe() == null ? r.id().name() : r.id().exe(),
                    String.valueOf(r.id().pid()), r.proto(), remote, r.domain() == null ? "-" : r.domain(),
                    Units.bytes(r.sent()), Units.bytes(r.recv()));
        }
        t.print(out);
        out.println(rows.size() + " rows");
    }

    private static void printTotals(PrintWriter out, List<Totals> totals) {
        Table t = new Table("EXE", "NAME", "SENT", "RECV", "TOTAL", "CONNS");
        for (Totals x : totals)
            t.row(x.exe(), x.name(), Units.bytes(x.sent()), Units.bytes(x.recv()), Units.bytes(x.total()), String.valueOf(x.conns()));
        t.print(out);
    }
}

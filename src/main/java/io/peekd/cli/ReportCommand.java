package io.peekd.cli;

import io.peekd.config.Config;
import io.peekd.config.Durations;
import io.peekd.report.ByteUnits;
import io.peekd.report.ReportOutput;
import io.peekd.report.Terminal;
import io.peekd.report.TimeArg;
import io.peekd.rpc.RpcClient;
import io.peekd.store.Reader;
import io.peekd.store.Report;
import io.peekd.store.Where;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Sum recorded traffic by executable, domain, user, port... largest first.",
                "Long ranges are read from minute, hour and day rollups, so a month takes no longer than a day.",
                "Times are stored in UTC and shown in local time, with the zone named.",
                "",
                "Examples:",
                "  peekd report                                  last 24 hours by executable",
                "  peekd report --since 7d --by domain --top 20",
                "  peekd report --by exe,domain --user alice --csv > alice.csv",
                "  peekd report --from 2026-01-01 --to 2026-02-01 --by user --json",
                "  peekd report --by exe --where \"domain ~ '*.example.com' and rport = 443\"",
                ""},
        footer = {"",
                "Dimensions (--by): exe, name, sha256, parent, user, domain, raddr, rport, lport, container,",
                "country, asn. lport needs the raw windows, which are kept database.retention_days.",
                "country and asn stay empty until GeoIP lookups are available.",
                "",
                "--where takes conditions on: exe, name, sha256, parent, pname, psha256, uid, user, container,",
                "proto, family, domain, raddr, rport, country, asn, and (raw windows only) lport, laddr, pid,",
                "ppid, cmdline, pcmdline, cgroup, domain_source, domain_confidence. Operators: = != < <= > >=,",
                "~ (glob with * and ?), like (%% and _), in (a, b); combine with and, or, not and parentheses.",
                "Quote values with spaces: name = 'Web Content'. Unknown values compare as ''.",
                "",
                "When the daemon runs, the report comes through its socket (run_dir/peekd.sock): users",
                "who are not root and not in the reader group (database.reader_group) see only their own",
                "processes. Otherwise the database is read directly, which needs read access to it."})
final class ReportCommand implements Callable<Integer> {

    @Mixin
    ConfigOption config;

    @Option(names = "--since", paramLabel = "AGE",
            description = "How far back from now: 30s, 15m, 24h, 7d, 2w... (default: 24h unless --from is given).")
    String since;

    @Option(names = "--from", paramLabel = "TIME",
            description = "Start at this time: " + TimeArg.EXAMPLES + ". Without a zone it is local time.")
    String from;

    @Option(names = "--to", paramLabel = "TIME", description = "End before this time (default: now); same forms as --from.")
    String to;

    @Option(names = "--by", paramLabel = "DIM", split = ",", defaultValue = "exe",
            description = "Group by these dimensions, comma-separated or repeated (default: ${DEFAULT-VALUE}).")
    List<String> by;

    @Option(names = "--top", paramLabel = "N", defaultValue = "0",
            description = "Show only the N largest groups (default: all). The total still counts every group.")
    int top;

    @ArgGroup(exclusive = true)
    Format format = new Format();

    static final class Format {
        @Option(names = "--json", description = "Print a JSON array: one object per group with the dimensions, sent, recv, total, conns.")
        boolean json;

        @Option(names = "--csv", description = "Print CSV with a header line (same fields as --json).")
        boolean csv;
    }

    @Option(names = "--units", paramLabel = "UNITS", defaultValue = "iec",
            description = "Byte units in the table: iec (KiB, MiB), si (kB, MB) or bytes (default: ${DEFAULT-VALUE}).")
    String units;

    @Option(names = "--width", paramLabel = "COLUMNS",
            description = "Fit the table into this many columns (default: the terminal's width; unlimited when piped).")
    Integer width;

    @Option(names = "--exe", paramLabel = "PATH", description = "Only this executable path.")
    String exe;

    @Option(names = "--name", paramLabel = "NAME", description = "Only processes with this name.")
    String name;

    @Option(names = "--domain", paramLabel = "DOMAIN", description = "Only this domain and its subdomains.")
    String domain;

    @Option(names = "--user", paramLabel = "USER", description = "Only processes of this user (name or uid).")
    String user;

    @Option(names = "--container", paramLabel = "NAME", description = "Only processes in this container.")
    String container;

    @Option(names = "--where", paramLabel = "CONDITION", description = "Only rows matching the condition (see below).")
    String where;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Config c = config.load();
        Report.Spec s = buildSpec(ZoneId.systemDefault(), Instant.now());
        ByteUnits u = parse(() -> ByteUnits.parse(units), "--units");
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        Report.Result result;
        Optional<RpcClient> rpc = RpcClient.connect(c.paths().socket());
        if (rpc.isPresent()) {
            try {
                result = rpc.get().report(s);
                RpcClient.Hello h = rpc.get().hello();
                if (!h.seesAll() && !format.json && !format.csv) {
                    err.println("peekd: showing only processes of " + h.user() + " (uid " + h.uid() + "); root and members"
                            + " of the reader group see everyone's");
                }
            } catch (RpcClient.Failed e) {
                throw new IllegalStateException(e.getMessage());
            }
        } else {
            if (!Files.exists(c.paths().db())) {
                if (format.json) {
                    out.println("[]");
                } else if (!format.csv) {
                    out.println("no data yet: " + c.paths().db() + " does not exist and no daemon answers on "
                            + c.paths().socket());
                }
                out.flush();
                return 0;
            }
            try (Reader r = Reader.open(c.paths().db())) {
                result = r.report(s);
            }
        }
        if (format.json) {
            ReportOutput.json(result, out);
        } else if (format.csv) {
            ReportOutput.csv(result, out);
        } else {
            ReportOutput.table(result, u, ZoneId.systemDefault(), width != null ? width : Terminal.width(), out);
        }
        out.flush();
        return 0;
    }

    Report.Spec buildSpec(ZoneId zone, Instant now) {
        if (since != null && from != null) {
            throw new ParameterException(spec.commandLine(), "give either --since or --from, not both");
        }
        Instant end = to == null ? now : parse(() -> TimeArg.parse(to, zone, now), "--to");
        Instant start = from != null ? parse(() -> TimeArg.parse(from, zone, now), "--from")
                : end.minus(parse(() -> Durations.parse(since == null ? "24h" : since), "--since"));
        if (start.isAfter(end)) {
            throw new ParameterException(spec.commandLine(), "the range starts after it ends (" + start + " > " + end + ")");
        }
        if (top < 0) {
            throw new ParameterException(spec.commandLine(), "--top must be 0 (all) or positive");
        }
        List<Report.Dim> dims = new ArrayList<>();
        for (String b : by) {
            if (!b.isBlank()) {
                dims.add(parse(() -> Report.Dim.parse(b), "--by"));
            }
        }
        Where w = where == null ? null : parse(() -> Where.parse(where), "--where");
        return parse(() -> new Report.Spec(start, end, dims, new Report.Filters(exe, name, domain, user, container),
                w, top, OptionalInt.empty()), "report");
    }

    private <T> T parse(java.util.function.Supplier<T> s, String option) {
        try {
            return s.get();
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), option + ": " + e.getMessage());
        }
    }
}

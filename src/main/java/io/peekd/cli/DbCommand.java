package io.peekd.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.peekd.config.Config;
import io.peekd.report.ByteUnits;
import io.peekd.rpc.RpcClient;
import io.peekd.rpc.RpcServer;
import io.peekd.store.DbOps;
import io.peekd.store.DbStats;
import io.peekd.store.Reader;
import io.peekd.store.Store;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Optional;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code peekd db}: maintenance of the SQLite history. When the daemon runs, commands that
 * write (checkpoint, vacuum) are done by its own writer through the socket, between two
 * batches, so there is never a second writer; reads (integrity, stats) use a read-only
 * connection, which in WAL mode never blocks the writer.
 */
@Command(name = "db", mixinStandardHelpOptions = true,
        description = {"Maintain the history database (data_dir/peekd.db). Run as root.",
                "None of these stops the daemon from recording: the longest pause they cause is one checkpoint."},
        subcommands = {DbCommand.Checkpoint.class, DbCommand.Integrity.class, DbCommand.Vacuum.class,
                DbCommand.Migrate.class, DbCommand.Stats.class})
final class DbCommand {

    private static final DateTimeFormatter LOCAL = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    /** Also accepted before the subcommand: {@code peekd db --config X stats}. */
    @Mixin
    ConfigOption config;


    /** Runs a write operation through the daemon when it runs, else on a store of our own. */
    private static <T> T write(Config c, String op, java.util.function.Function<JsonNode, T> remote, StoreWork<T> local)
            throws Exception {
        Optional<RpcClient> rpc = RpcClient.connect(c.paths().socket());
        if (rpc.isPresent()) {
            try {
                return remote.apply(rpc.get().op(op));
            } catch (RpcClient.Failed e) {
                throw new IllegalStateException(e.getMessage());
            }
        }
        Path db = c.paths().db();
        requireDb(db);
        try (Store s = Store.open(db)) {
            return local.run(s);
        }
    }

    interface StoreWork<T> {
        T run(Store s) throws Exception;
    }

    private static void requireDb(Path db) {
        if (!Files.isRegularFile(db)) {
            throw new IllegalStateException("no peekd database at " + db + " (has the daemon run with this data_dir?)");
        }
    }

    @Command(name = "checkpoint", mixinStandardHelpOptions = true,
            description = {"Copy the write-ahead log (peekd.db-wal) into the database file and truncate it.",
                    "SQLite does this by itself as the log grows; run it before copying the file elsewhere."})
    static final class Checkpoint extends Subcommand {

        @Override
        public Integer call() throws Exception {
            Config c = loadConfig();
            DbOps.Checkpoint cp = write(c, "checkpoint",
                    n -> new DbOps.Checkpoint(n.path("busy").asBoolean(), n.path("log_pages").asLong(),
                            n.path("copied_pages").asLong()),
                    s -> DbOps.checkpoint(s.writer()));
            PrintWriter out = spec.commandLine().getOut();
            if (cp.busy()) {
                out.printf("checkpoint: %d of %d log pages copied; a reader still uses the rest, so the log was not"
                        + " truncated. Run it again when long reports are done.%n", cp.copiedPages(), cp.logPages());
                out.flush();
                return 1;
            }
            out.printf("checkpoint: %d log pages copied into the database; the log is empty now%n", cp.copiedPages());
            out.flush();
            return 0;
        }
    }

    @Command(name = "integrity", mixinStandardHelpOptions = true,
            description = {"Check the whole file with SQLite's PRAGMA integrity_check and print a verdict.",
                    "It only reads (the daemon keeps recording meanwhile). Exit code 0: sound, 1: damaged."})
    static final class Integrity extends Subcommand {

        @Override
        public Integer call() {
            Config c = loadConfig();
            requireDb(c.paths().db());
            PrintWriter out = spec.commandLine().getOut();
            List<String> problems;
            try (Reader r = Reader.open(c.paths().db())) {
                problems = r.integrityCheck();
            }
            if (problems.equals(List.of("ok"))) {
                out.println("integrity: ok, " + c.paths().db() + " is sound");
                out.flush();
                return 0;
            }
            out.println("integrity: DAMAGED, " + c.paths().db() + " has " + problems.size() + " problem(s):");
            problems.stream().limit(50).forEach(p -> out.println("  " + p));
            if (problems.size() > 50) {
                out.println("  ... and " + (problems.size() - 50) + " more");
            }
            out.println("Stop the daemon and keep a copy of the file; `sqlite3 peekd.db .recover` can save what is readable.");
            out.flush();
            return 1;
        }
    }

    @Command(name = "vacuum", mixinStandardHelpOptions = true,
            description = {"Give the pages freed by retention back to the file system.",
                    "With the daemon running, pages are freed a few MiB at a time between its writes.",
                    "A database from before schema version 2 must be converted once with the daemon stopped."})
    static final class Vacuum extends Subcommand {

        @Override
        public Integer call() throws Exception {
            Config c = loadConfig();
            DbOps.Vacuum v = write(c, "vacuum",
                    n -> new DbOps.Vacuum(n.path("full").asBoolean(), n.path("freed_pages").asLong(),
                            n.path("bytes_before").asLong(), n.path("bytes_after").asLong()),
                    s -> DbOps.vacuum(s.writer(), s.file(), true));
            PrintWriter out = spec.commandLine().getOut();
            out.printf("vacuum%s: %d pages freed; database and log %s -> %s%n", v.full() ? " (full rewrite)" : "",
                    v.freedPages(), ByteUnits.IEC.format(v.bytesBefore()), ByteUnits.IEC.format(v.bytesAfter()));
            out.flush();
            return 0;
        }
    }

    @Command(name = "migrate", mixinStandardHelpOptions = true,
            description = {"Upgrade the database to the schema of this peekd (the daemon also does it when it starts).",
                    "With the daemon running, it only reports the version: the daemon upgraded the file already."})
    static final class Migrate extends Subcommand {

        @Override
        public Integer call() {
            Config c = loadConfig();
            Path db = c.paths().db();
            PrintWriter out = spec.commandLine().getOut();
            int target = DbOps.currentSchemaVersion();
            if (RpcClient.connect(c.paths().socket()).isPresent()) {
                requireDb(db);
                int v = DbOps.schemaVersion(db);
                out.printf("migrate: the daemon runs and keeps %s at schema version %d (this peekd writes %d)%n", db, v, target);
                out.flush();
                return v == target ? 0 : 1;
            }
            int before = Files.exists(db) ? DbOps.schemaVersion(db) : 0;
            try (Store s = Store.open(db)) {
                // opening migrates
            }
            int after = DbOps.schemaVersion(db);
            if (before == after) {
                out.printf("migrate: %s is already at schema version %d%n", db, after);
            } else {
                out.printf("migrate: %s upgraded from schema version %d to %d%n", db, before, after);
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "stats", mixinStandardHelpOptions = true,
            description = {"Show what the database holds: rows, time span, size and free pages.",
                    "Per table: rows and the oldest and newest entry. Also the retention cutoffs",
                    "and the rows waiting for the off-host mirror."})
    static final class Stats extends Subcommand {

        @Option(names = "--json", description = "Print the statistics as a JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            Config c = loadConfig();
            PrintWriter out = spec.commandLine().getOut();
            JsonNode s;
            Path db = c.paths().db();
            if (Files.isReadable(db)) {
                try (Reader r = Reader.open(db)) {
                    s = new ObjectMapper().valueToTree(RpcServer.statsMap(r.tableStats()));
                }
            } else {
                // Not root: the daemon may still tell members of the reader group.
                Optional<RpcClient> rpc = RpcClient.connect(c.paths().socket());
                if (rpc.isEmpty()) {
                    requireDb(db);
                    throw new IllegalStateException("cannot read " + db + "; run as root");
                }
                try {
                    s = rpc.get().op("stats").path("stats");
                } catch (RpcClient.Failed e) {
                    throw new IllegalStateException(e.getMessage());
                }
            }
            if (json) {
                out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(s));
                out.flush();
                return 0;
            }
            print(out, s);
            out.flush();
            return 0;
        }

        private static void print(PrintWriter out, JsonNode s) {
            out.printf("database:   %s, schema version %d%n", s.path("file").asText(), s.path("schema_version").asInt());
            long size = s.path("file_bytes").asLong(), wal = s.path("wal_bytes").asLong();
            long free = s.path("free_pages").asLong() * s.path("page_size").asLong();
            out.printf("size:       %s (+ %s write-ahead log), %s free inside%s%n", ByteUnits.IEC.format(size),
                    ByteUnits.IEC.format(wal), ByteUnits.IEC.format(free),
                    free > 0 ? " (peekd db vacuum gives it back)" : "");
            ZoneId zone = ZoneId.systemDefault();
            out.printf("times:      local, %s%n", zone.getId());
            Table t = new Table("TABLE", "ROWS", "OLDEST", "NEWEST", "KEPT FROM");
            for (JsonNode tb : s.path("tables")) {
                t.row(tb.path("name").asText(), Long.toString(tb.path("rows").asLong()), local(tb, "oldest", zone),
                        local(tb, "newest", zone), local(tb, "cutoff", zone));
            }
            t.print(out);
            long outbox = 0;
            for (JsonNode tb : s.path("tables")) {
                if (tb.path("name").asText().equals("outbox")) {
                    outbox = tb.path("rows").asLong();
                }
            }
            out.printf("mirror:     %s, %d rows waiting to be sent%n",
                    s.path("outbox_on").asBoolean() ? "on" : "off", outbox);
        }

        private static String local(JsonNode n, String field, ZoneId zone) {
            JsonNode v = n.get(field);
            return v == null || v.isNull() ? "-" : LOCAL.format(Instant.parse(v.asText()).atZone(zone));
        }
    }
}

package io.peekd.testkit;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The traffic generator {@code src/test/c/tgen.c}, compiled once per test JVM.
 * Every run reports what it moved as counted from syscall return values; see
 * {@code tgen --help} for modes and options.
 *
 * <pre>{@code
 * Path sink = Tgen.copyAs("sink"), send = Tgen.copyAs("upload4");
 * try (Tgen.Running server = Tgen.start(sink, "tcp-sink", "--listen", "127.0.0.1:0")) {
 *     Tgen.Result up = Tgen.run(send, "tcp-send", "--to", "127.0.0.1:" + server.port(), "--bytes", "100000");
 *     assertThat(server.await().recv()).isEqualTo(up.sent());
 * }
 * }</pre>
 */
public final class Tgen {

    /** Put in front of a command to run it in a new mount and PID namespace. */
    public static final List<String> NEW_PID_NS = List.of("unshare", "--fork", "--pid", "--mount-proc");

    /** Longest any run may take before it is killed; tgen itself stops after its --timeout (10 s by default). */
    public static final Duration HARD_LIMIT = Duration.ofSeconds(60);

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern READY = Pattern.compile("tgen: ready port=(\\d+)");
    private static Path binary;

    private Tgen() {
    }

    /**
     * Where test files live: {@code ${peekd.test.dir}}, or {@code target/it}. Created on demand,
     * because CI starts from a fresh checkout where no earlier test has made it.
     */
    public static Path testDir() {
        Path dir = Path.of(System.getProperty("peekd.test.dir", "target/it")).toAbsolutePath();
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Path source() {
        return Path.of(System.getProperty("peekd.tgen.src", "src/test/c/tgen.c")).toAbsolutePath();
    }

    static List<String> gcc(Path src, Path out, String... extraFlags) {
        List<String> argv = new ArrayList<>(List.of("gcc", "-std=gnu11", "-O2", "-Wall", "-Wextra"));
        argv.addAll(List.of(extraFlags));
        argv.addAll(List.of("-o", out.toString(), src.toString(), "-luring"));
        return argv;
    }

    /** Compiles tgen.c with gcc on first use; later calls return the same binary. */
    public static synchronized Path binary() {
        if (binary != null) return binary;
        Path src = source();
        if (!Files.isRegularFile(src)) {
            throw new IllegalStateException("tgen source not found at " + src
                    + " (run from the project directory or set -Dpeekd.tgen.src)");
        }
        try {
            Path dir = Files.createDirectories(testDir().resolve("bin"));
            // Compile beside and rename: a second JVM on the same directory never sees half a file.
            Path tmp = dir.resolve("tgen." + ProcessHandle.current().pid() + ".tmp");
            Exec cc = Exec.run(Duration.ofSeconds(120), gcc(src, tmp));
            if (!cc.ok()) {
                throw new IllegalStateException("gcc failed to build tgen (packages it needs: "
                        + "scripts/test-packages.txt):\n" + cc.stderr());
            }
            Path out = dir.resolve("tgen");
            Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            binary = out;
            return out;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build tgen", e);
        }
    }

    /**
     * A fresh copy of tgen at a path no other test uses, {@code <testDir>/exe/<random>/<name>},
     * so the daemon can tell tests apart by executable while comm stays {@code name}.
     */
    public static Path copyAs(String name) {
        if (!name.matches("[A-Za-z0-9._-]{1,64}") || name.startsWith(".")) {
            throw new IllegalArgumentException("executable name must be 1-64 of [A-Za-z0-9._-]: " + name);
        }
        Path src = binary();
        try {
            Path dir = Files.createDirectories(testDir().resolve("exe").resolve(HexFormat.of().toHexDigits(RANDOM.nextLong())));
            Path exe = dir.resolve(name);
            Files.copy(src, exe);
            Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
            return exe;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy tgen as " + name, e);
        }
    }

    /**
     * A random value for {@code --token}. Raw and packet receivers drop every datagram
     * without their token, so concurrent tests on one protocol or ethertype stay apart.
     */
    public static String token() {
        return "0x" + HexFormat.of().toHexDigits(RANDOM.nextInt());
    }

    /** Runs tgen to its end; throws if it fails, with its stderr. */
    public static Result run(Path exe, String... args) {
        return run(List.of(), exe, args);
    }

    /** Runs tgen behind a prefix such as {@link NetNs#prefix()} or {@link #NEW_PID_NS}. */
    public static Result run(List<String> prefix, Path exe, String... args) {
        Exec e = Exec.run(HARD_LIMIT, command(prefix, exe, args));
        if (!e.ok()) {
            throw new TgenFailed(e);
        }
        return Result.parse(e.stdout(), e.stderr());
    }

    /** Runs tgen expecting it to fail; returns what it printed so tests can check the message. */
    public static Exec runFailing(Path exe, String... args) {
        Exec e = Exec.run(HARD_LIMIT, command(List.of(), exe, args));
        if (e.ok()) throw new IllegalStateException("tgen succeeded but should have failed: " + e.stdout());
        return e;
    }

    /** Starts tgen (usually a server) in the background. */
    public static Running start(Path exe, String... args) {
        return start(List.of(), exe, args);
    }

    public static Running start(List<String> prefix, Path exe, String... args) {
        return new Running(command(prefix, exe, args), null);
    }

    /** Starts tgen inside a namespace, which then kills it on close if it still runs. */
    public static Running start(NetNs ns, Path exe, String... args) {
        return new Running(command(ns.prefix(), exe, args), ns);
    }

    public static Result run(NetNs ns, Path exe, String... args) {
        return run(ns.prefix(), exe, args);
    }

    private static List<String> command(List<String> prefix, Path exe, String... args) {
        List<String> argv = new ArrayList<>(prefix);
        argv.add(exe.toString());
        argv.addAll(List.of(args));
        return argv;
    }

    /** tgen exited non-zero; the message carries its stderr. */
    public static final class TgenFailed extends IllegalStateException {
        private final transient Exec exec;

        TgenFailed(Exec e) {
            super("tgen failed (exit " + e.exitCode() + "): " + String.join(" ", e.argv()) + "\n" + e.stderr().strip());
            this.exec = e;
        }

        public Exec exec() {
            return exec;
        }
    }

    /**
     * One run's JSON line. {@code sent}, {@code recv} and {@code conns} are always present;
     * mode-specific members ({@code lport}, {@code peers}, {@code payload}, ...) are in {@link #json()}.
     */
    public record Result(JsonNode json, String stderr) {

        static Result parse(String stdout, String stderr) {
            List<String> lines = stdout.lines().toList();
            if (lines.size() != 1) {
                throw new IllegalStateException("tgen printed " + lines.size() + " lines, expected one JSON line:\n"
                        + stdout + "\nstderr: " + stderr);
            }
            try {
                JsonNode node = JSON.readTree(lines.getFirst());
                for (String field : List.of("pid", "sent", "recv", "conns")) {
                    if (!node.path(field).isIntegralNumber()) {
                        throw new IllegalStateException("tgen result lacks \"" + field + "\": " + lines.getFirst());
                    }
                }
                return new Result(node, stderr);
            } catch (IOException e) {
                throw new IllegalStateException("tgen printed no valid JSON: " + lines.getFirst(), e);
            }
        }

        /** The pid as tgen saw it (inside its PID namespace). */
        public int pid() {
            return json.get("pid").asInt();
        }

        public long sent() {
            return json.get("sent").asLong();
        }

        public long recv() {
            return json.get("recv").asLong();
        }

        public long conns() {
            return json.get("conns").asLong();
        }

        /** A numeric member; throws if absent, so a typo cannot pass as zero. */
        public long get(String field) {
            JsonNode n = json.get(field);
            if (n == null || !n.isNumber()) throw new IllegalArgumentException("no numeric \"" + field + "\" in " + json);
            return n.asLong();
        }

        public String text(String field) {
            JsonNode n = json.get(field);
            if (n == null || !n.isTextual()) throw new IllegalArgumentException("no text \"" + field + "\" in " + json);
            return n.asText();
        }

        /** Per-address counts of udp, udp-echo, udp-sink and icmp. */
        public List<Peer> peers() {
            List<Peer> out = new ArrayList<>();
            json.path("peers").forEach(p -> out.add(new Peer(p.get("addr").asText(), p.get("port").asInt(),
                    p.get("sent").asLong(), p.get("recv").asLong())));
            return out;
        }

        /** The counts for one address (in any spelling) and port. */
        public Peer peer(String addr, int port) {
            InetAddress want = InetAddress.ofLiteral(addr);
            return peers().stream().filter(p -> InetAddress.ofLiteral(p.addr()).equals(want) && p.port() == port).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no peer " + addr + " port " + port + " in " + json));
        }
    }

    public record Peer(String addr, int port, long sent, long recv) {
    }

    /** A tgen process running in the background. Closing kills it if it still runs. */
    public static final class Running implements AutoCloseable {
        private final List<String> argv;
        private final Process process;
        private final Path stdout;
        private final StringBuffer stderr = new StringBuffer();
        private final CompletableFuture<Integer> ready = new CompletableFuture<>();
        private final Thread reader;

        Running(List<String> argv, NetNs ns) {
            this.argv = List.copyOf(argv);
            try {
                stdout = Files.createTempFile("peekd-tgen", ".out");
                ProcessBuilder pb = new ProcessBuilder(argv).redirectOutput(stdout.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
                process = ns == null ? pb.start() : ns.start(pb);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start " + argv, e);
            }
            // Platform thread: it blocks in a read for the whole run.
            reader = Thread.ofPlatform().daemon().name("tgen-stderr-" + process.pid()).start(this::readStderr);
        }

        private void readStderr() {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    stderr.append(line).append('\n');
                    Matcher m = READY.matcher(line);
                    if (m.matches()) ready.complete(Integer.parseInt(m.group(1)));
                }
            } catch (IOException e) {
                stderr.append("(stderr unreadable: ").append(e.getMessage()).append(")\n");
            }
            ready.completeExceptionally(new IllegalStateException("tgen ended before it was ready:\n" + stderr));
        }

        public Process process() {
            return process;
        }

        /** Waits (at most 20 s) for a server to be ready; returns its port (0 for raw and packet). */
        public int port() {
            try {
                return ready.get(20, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                throw (RuntimeException) e.getCause();
            } catch (TimeoutException e) {
                throw new IllegalStateException("tgen not ready after 20 s:\n" + stderr);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        /** Waits for the end (at most {@link #HARD_LIMIT}) and returns the result; throws if tgen failed. */
        public Result await() {
            try {
                if (!process.waitFor(HARD_LIMIT.toMillis(), TimeUnit.MILLISECONDS)) {
                    Exec.kill(process);
                    throw new IllegalStateException("tgen still running after " + HARD_LIMIT + ", killed:\n" + stderr);
                }
                reader.join(5000);
                Exec e = new Exec(argv, process.exitValue(),
                        Files.readString(stdout), stderr.toString());
                if (!e.ok()) throw new TgenFailed(e);
                return Result.parse(e.stdout(), e.stderr());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }

        @Override
        public void close() {
            if (process.isAlive()) Exec.kill(process);
            try {
                Files.deleteIfExists(stdout);
            } catch (IOException ignored) {
                // only a temp file
            }
        }
    }
}

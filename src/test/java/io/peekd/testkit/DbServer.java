package io.peekd.testkit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL or MariaDB server of the test's own: its files in a temporary directory, on
 * a free loopback port, with a database {@code peekd} and a user {@code peekd} that logs in
 * with a password over TCP. {@link #kill()} is a crash (no shutdown), {@link #start()}
 * brings the same files back on the same port, {@link #close()} stops it and deletes it all.
 */
public abstract sealed class DbServer implements AutoCloseable permits DbServer.Postgres, DbServer.Mariadb {

    public static final String USER = "peekd";
    public static final String PASSWORD = "pw-" + Long.toHexString(System.nanoTime());
    private static final Duration READY = Duration.ofSeconds(60);

    protected final Path dir;
    protected final int port;
    private boolean initialised;

    protected DbServer(String kind) {
        try {
            // Reachable for the server's own user (postgres), private otherwise by content.
            dir = Files.createTempDirectory("peekd-" + kind + "-");
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                port = s.getLocalPort();
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Postgres postgres() {
        return new Postgres();
    }

    public static Mariadb mariadb() {
        return new Mariadb();
    }

    /** The config's server type. */
    public abstract String type();

    public int port() {
        return port;
    }

    /** Starts (the first time: creates the files, the database and the user) and waits until it answers. */
    public final void start() {
        if (!initialised) {
            init();
            launch();
            createUser();
            initialised = true;
        } else {
            launch();
        }
    }

    /** Ends the server at once, as a crash would: transactions in flight are lost. */
    public abstract void kill();

    /** A JDBC connection as the peekd user. */
    public abstract Connection connect() throws SQLException;

    protected abstract void init();

    protected abstract void launch();

    protected abstract void createUser();

    protected abstract void stop();

    @Override
    public void close() {
        try {
            stop();
        } finally {
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            } catch (IOException ignored) {
                // a leftover temp dir is harmless
            }
        }
    }

    static void waitUntil(String what, java.util.function.BooleanSupplier ready) {
        long deadline = System.nanoTime() + READY.toNanos();
        while (!ready.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(what + " not ready after " + READY.toSeconds() + " s");
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    /** PostgreSQL from Debian's package, run as its {@code postgres} user (it refuses root). */
    public static final class Postgres extends DbServer {
        private final Path bin;
        private final Path data;

        Postgres() {
            super("pg");
            try (Stream<Path> s = Files.list(Path.of("/usr/lib/postgresql"))) {
                bin = s.map(p -> p.resolve("bin")).filter(p -> Files.isExecutable(p.resolve("initdb")))
                        .max(Comparator.naturalOrder())
                        .orElseThrow(() -> new IllegalStateException("no PostgreSQL under /usr/lib/postgresql; install postgresql"));
            } catch (IOException e) {
                throw new IllegalStateException("PostgreSQL is not installed (apt-get install postgresql)", e);
            }
            data = dir.resolve("data");
        }

        @Override
        public String type() {
            return "postgresql";
        }

        private Exec asPostgres(String... argv) {
            List<String> cmd = new ArrayList<>(List.of("setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--"));
            cmd.addAll(List.of(argv));
            return Exec.run(Duration.ofSeconds(120), cmd);
        }

        @Override
        protected void init() {
            Exec.check("chown", "postgres:postgres", dir.toString());
            Path pw = dir.resolve("pwfile");
            try {
                Files.writeString(pw, PASSWORD + "\n");
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            Exec.check("chown", "postgres:postgres", pw.toString());
            asPostgres(bin.resolve("initdb").toString(), "-D", data.toString(), "-U", "postgres", "--pwfile=" + pw,
                    "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-sync").requireOk();
        }

        @Override
        protected void launch() {
            asPostgres(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-l", dir.resolve("log").toString(),
                    "-o", "-p " + port + " -k " + dir + " -c listen_addresses=127.0.0.1 -c fsync=off", "-w", "-t", "60",
                    "start").requireOk();
        }

        private Exec psql(String sql) {
            return asPostgres(bin.resolve("psql").toString(), "-h", dir.toString(), "-p", Integer.toString(port), "-U",
                    "postgres", "-v", "ON_ERROR_STOP=1", "-c", sql);
        }

        @Override
        protected void createUser() {
            psql("CREATE USER " + USER + " PASSWORD '" + PASSWORD + "'").requireOk();
            psql("CREATE DATABASE peekd OWNER " + USER).requireOk();
        }

        @Override
        public void kill() {
            asPostgres(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "immediate", "stop").requireOk();
        }

        @Override
        protected void stop() {
            if (Files.exists(data.resolve("postmaster.pid"))) {
                asPostgres(bin.resolve("pg_ctl").toString(), "-D", data.toString(), "-m", "fast", "stop");
            }
        }

        @Override
        public Connection connect() throws SQLException {
            return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/peekd", USER, PASSWORD);
        }
    }

    /** MariaDB from Debian's package, as root (--user=root), in the foreground as our child. */
    public static final class Mariadb extends DbServer {
        private final Path data;
        private final Path socket;
        private Process process;

        Mariadb() {
            super("maria");
            data = dir.resolve("data");
            socket = dir.resolve("mysqld.sock");
        }

        @Override
        public String type() {
            return "mariadb";
        }

        @Override
        protected void init() {
            Exec.run(Duration.ofSeconds(120), List.of("mariadb-install-db", "--no-defaults", "--datadir=" + data,
                    "--user=root", "--auth-root-authentication-method=socket", "--skip-test-db")).requireOk();
        }

        @Override
        protected void launch() {
            try {
                process = new ProcessBuilder("/usr/sbin/mariadbd", "--no-defaults", "--datadir=" + data, "--user=root",
                        "--socket=" + socket, "--port=" + port, "--bind-address=127.0.0.1", "--skip-name-resolve",
                        "--pid-file=" + dir.resolve("mariadbd.pid"), "--log-error=" + dir.resolve("error.log"),
                        "--innodb-buffer-pool-size=16M", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=2")
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start mariadbd", e);
            }
            waitUntil("mariadbd on port " + port, () -> {
                if (!process.isAlive()) {
                    throw new IllegalStateException("mariadbd exited " + process.exitValue() + "; see " + dir.resolve("error.log"));
                }
                return Exec.run(Duration.ofSeconds(10), List.of("mariadb-admin", "--no-defaults", "-S", socket.toString(),
                        "-u", "root", "ping")).ok();
            });
        }

        @Override
        protected void createUser() {
            Exec.run(Duration.ofSeconds(30), List.of("mariadb", "--no-defaults", "-S", socket.toString(), "-u", "root",
                    "-e", "CREATE DATABASE peekd; CREATE USER '" + USER + "'@'127.0.0.1' IDENTIFIED BY '" + PASSWORD
                            + "'; GRANT ALL ON peekd.* TO '" + USER + "'@'127.0.0.1';")).requireOk();
        }

        @Override
        public void kill() {
            if (process != null) {
                process.destroyForcibly();
                try {
                    process.waitFor(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                process = null;
            }
        }

        @Override
        protected void stop() {
            if (process != null) {
                process.destroy();
                try {
                    if (!process.waitFor(30, TimeUnit.SECONDS)) {
                        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    process.destroyForcibly();
                }
                process = null;
            }
        }

        @Override
        public Connection connect() throws SQLException {
            return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/peekd", USER, PASSWORD);
        }
    }
}

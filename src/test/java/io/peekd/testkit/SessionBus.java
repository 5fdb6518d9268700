package io.peekd.testkit;

import io.peekd.notify.Notifications;
import io.peekd.notify.UserBus;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.freedesktop.dbus.connections.base.AbstractConnectionBase;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.interfaces.DBus;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;

/**
 * A real {@code dbus-daemon --session} running as an unprivileged user (nobody),
 * as a desktop user's bus would, with a small server that owns
 * {@code org.freedesktop.Notifications} and records every call it gets.
 * The server connects as that user too: the bus admits nobody else.
 */
public final class SessionBus implements AutoCloseable {
    public static final int NOBODY = 65534;

    /** One Notify call as the server received it, with the caller's uid as the bus daemon knows it. */
    public record Received(String sender, long replacesId, String summary, String body, int urgency, long id) {
    }

    private final Path dir;
    private final Process daemon;
    private final DBusConnection server;
    private final Recorder recorder = new Recorder();

    private SessionBus(Path dir, Process daemon, DBusConnection server) {
        this.dir = dir;
        this.daemon = daemon;
        this.server = server;
    }

    /** Starts the bus and the server; without a server, calls fail as on a desktop with no notification daemon. */
    public static SessionBus start(boolean withServer) throws Exception {
        Path dir = Files.createTempDirectory(Tgen.testDir(), "bus-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        Exec.check("chown", NOBODY + ":" + NOBODY, dir.toString());
        Path socket = dir.resolve("bus");
        Process p = new ProcessBuilder("setpriv", "--reuid=" + NOBODY, "--regid=" + NOBODY, "--clear-groups",
                "dbus-daemon", "--session", "--nofork", "--nopidfile", "--address=unix:path=" + socket)
                .redirectErrorStream(true).redirectOutput(dir.resolve("dbus-daemon.log").toFile()).start();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.exists(socket)) {
            if (!p.isAlive() || System.nanoTime() > deadline) {
                p.destroyForcibly();
                throw new IllegalStateException("dbus-daemon did not start: " + Files.readString(dir.resolve("dbus-daemon.log")));
            }
            Thread.sleep(20);
        }
        SessionBus bus = new SessionBus(dir, p, withServer ? connect(socket) : null);
        if (withServer) {
            bus.server.exportObject(Notifications.OBJECT_PATH, bus.recorder);
            bus.server.requestBusName(Notifications.BUS_NAME);
        }
        return bus;
    }

    private static DBusConnection connect(Path socket) throws Exception {
        return UserBus.connect(new UserBus.Target("nobody", NOBODY, NOBODY, socket));
    }

    public Path socket() {
        return dir.resolve("bus");
    }

    public List<Received> received() {
        return List.copyOf(recorder.calls);
    }

    /** The uid the bus daemon has for a connection (from the socket's credentials, not from any claim). */
    public long uidOf(String sender) throws Exception {
        return server.getRemoteObject("org.freedesktop.DBus", "/org/freedesktop/DBus", DBus.class)
                .GetConnectionUnixUser(sender).longValue();
    }

    /** Waits (at most 20 s) until at least {@code n} calls arrived; returns what arrived either way. */
    public List<Received> await(int n) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (recorder.calls.size() < n && System.nanoTime() < deadline) Thread.sleep(20);
        return received();
    }

    public static final class Recorder implements Notifications {
        final List<Received> calls = new CopyOnWriteArrayList<>();
        private final AtomicInteger ids = new AtomicInteger(100);

        @Override
        public UInt32 Notify(String appName, UInt32 replacesId, String appIcon, String summary, String body,
                             List<String> actions, Map<String, Variant<?>> hints, int expireTimeout) {
            long id = replacesId.longValue() != 0 ? replacesId.longValue() : ids.incrementAndGet();
            Variant<?> u = hints.get("urgency");
            int urgency = u == null ? -1 : ((Number) u.getValue()).intValue();
            String sender = AbstractConnectionBase.getCallInfo() == null ? null : AbstractConnectionBase.getCallInfo().getSource();
            calls.add(new Received(sender, replacesId.longValue(), summary, body, urgency, id));
            return new UInt32(id);
        }

        @Override
        public String getObjectPath() {
            return OBJECT_PATH;
        }
    }

    @Override
    public void close() throws IOException {
        if (server != null) server.disconnect();
        daemon.destroy();
        try {
            if (!daemon.waitFor(5, java.util.concurrent.TimeUnit.SECONDS)) daemon.destroyForcibly();
        } catch (InterruptedException e) {
            daemon.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

}

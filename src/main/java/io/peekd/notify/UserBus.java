package io.peekd.notify;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.freedesktop.dbus.connections.impl.DBusConnection;
import org.freedesktop.dbus.connections.impl.DBusConnectionBuilder;
import org.freedesktop.dbus.exceptions.DBusException;

/** Finds a user's session bus and connects to it as that user. */
public final class UserBus {

    /** A user's session bus socket. */
    public record Target(String user, int uid, int gid, Path socket) {
    }

    private UserBus() {
    }

    /**
     * @param busAddress {@code desktop.bus_address}: empty for {@code /run/user/<uid>/bus},
     *                   else a socket path or {@code unix:path=...}
     * @throws IOException when the user is not in the passwd file
     */
    public static Target resolve(String user, String busAddress, Path passwd) throws IOException {
        int uid = -1, gid = -1;
        for (String line : Files.readAllLines(passwd, StandardCharsets.UTF_8)) {
            String[] f = line.split(":", -1);
            if (f.length >= 4 && f[0].equals(user)) {
                try {
                    uid = Integer.parseInt(f[2]);
                    gid = Integer.parseInt(f[3]);
                } catch (NumberFormatException e) {
                    continue;
                }
                break;
            }
        }
        if (uid < 0) throw new IOException("desktop.user \"" + user + "\" is not in " + passwd);
        return new Target(user, uid, gid, socketPath(busAddress, uid));
    }

    /** The socket path of a bus address as {@code desktop.bus_address} allows it. */
    public static Path socketPath(String busAddress, int uid) {
        if (busAddress == null || busAddress.isEmpty()) return Path.of("/run/user/" + uid + "/bus");
        if (busAddress.startsWith("unix:")) {
            for (String kv : busAddress.substring(5).split(",")) {
                if (kv.startsWith("path=")) return Path.of(kv.substring(5));
            }
            throw new IllegalArgumentException("only unix:path= bus addresses are supported: " + busAddress);
        }
        return Path.of(busAddress);
    }

    /** Connects as the target user. Must be called on a platform thread. */
    public static DBusConnection connect(Target t) throws DBusException {
        return DBusConnectionBuilder.forAddress(UserBusTransport.address(t.socket().toString(), t.uid(), t.gid()))
                .withShared(false)
                .transportConfig().withTimeout(5000).back()
                .build();
    }
}

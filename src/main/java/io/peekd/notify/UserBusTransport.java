package io.peekd.notify;

import io.peekd.bpf.ThreadCreds;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.util.OptionalLong;
import org.freedesktop.dbus.connections.BusAddress;
import org.freedesktop.dbus.connections.SASL;
import org.freedesktop.dbus.connections.config.TransportConfig;
import org.freedesktop.dbus.connections.transports.AbstractUnixTransport;
import org.freedesktop.dbus.exceptions.TransportConfigurationException;

/**
 * A D-Bus client transport to a Unix socket, connected with another user's
 * credentials. A session bus admits only its own user: it reads the peer's
 * uid from the socket (SO_PEERCRED, fixed at connect time) and compares it
 * with the uid claimed in SASL EXTERNAL. So the connect runs as the desktop
 * user on this thread only ({@link ThreadCreds}), and SASL claims that uid;
 * everything after the connect runs as root again.
 *
 * <p>Address form: {@code peekduser:path=/run/user/1000/bus,uid=1000,gid=1000}.
 */
final class UserBusTransport extends AbstractUnixTransport {
    static final String TYPE = "peekduser";

    private final UnixDomainSocketAddress socket;
    private final int uid, gid;
    private SocketChannel channel;

    UserBusTransport(BusAddress address, TransportConfig config) throws TransportConfigurationException {
        super(address, config);
        String path = address.getParameterValue("path");
        if (path == null || path.isEmpty()) throw new TransportConfigurationException(TYPE + " address needs path=");
        try {
            uid = Integer.parseInt(address.getParameterValue("uid"));
            gid = Integer.parseInt(address.getParameterValue("gid"));
        } catch (NumberFormatException e) {
            throw new TransportConfigurationException(TYPE + " address needs numeric uid= and gid=");
        }
        socket = UnixDomainSocketAddress.of(path);
        getSaslConfig().setAuthMode(SASL.AUTH_EXTERNAL);
        getSaslConfig().setSaslUid(OptionalLong.of(uid));
    }

    static String address(String socketPath, int uid, int gid) {
        return TYPE + ":path=" + socketPath + ",uid=" + uid + ",gid=" + gid;
    }

    @Override
    protected boolean hasFileDescriptorSupport() {
        return false;
    }

    @Override
    protected SocketChannel connectImpl() throws IOException {
        try {
            channel = ThreadCreds.callAs(uid, gid, () -> SocketChannel.open(socket));
        } catch (IOException e) {
            throw e;
        } catch (Exception e) {
            throw new IOException("cannot connect to " + socket.getPath() + " as uid " + uid + ": " + e.getMessage(), e);
        }
        channel.configureBlocking(true);
        return channel;
    }

    @Override
    protected SocketChannel acceptImpl() throws IOException {
        throw new IOException(TYPE + " is a client transport");
    }

    @Override
    protected void bindImpl() throws IOException {
        throw new IOException(TYPE + " is a client transport");
    }

    @Override
    protected boolean isBound() {
        return false;
    }

    @Override
    protected void closeTransport() throws IOException {
        if (channel != null) channel.close();
    }

    @Override
    public int getUid(SocketChannel sock) throws IOException {
        throw new IOException(TYPE + " is a client transport");
    }
}

package io.peekd.notify;

import org.freedesktop.dbus.connections.BusAddress;
import org.freedesktop.dbus.connections.config.TransportConfig;
import org.freedesktop.dbus.connections.transports.AbstractTransport;
import org.freedesktop.dbus.exceptions.TransportConfigurationException;
import org.freedesktop.dbus.spi.transport.ITransportProvider;

/** Registers {@link UserBusTransport} with dbus-java (META-INF/services). */
public final class UserBusTransportProvider implements ITransportProvider {
    @Override
    public String getTransportName() {
        return "peekd-user-bus";
    }

    @Override
    public AbstractTransport createTransport(BusAddress address, TransportConfig config)
            throws TransportConfigurationException {
        return new UserBusTransport(address, config);
    }

    @Override
    public String getSupportedBusType() {
        return UserBusTransport.TYPE;
    }

    @Override
    public String createDynamicSessionAddress(boolean listeningSocket) {
        throw new UnsupportedOperationException("peekd only connects to existing session buses");
    }
}

package io.peekd.notify;

import java.util.List;
import java.util.Map;
import org.freedesktop.dbus.annotations.DBusInterfaceName;
import org.freedesktop.dbus.interfaces.DBusInterface;
import org.freedesktop.dbus.types.UInt32;
import org.freedesktop.dbus.types.Variant;

/**
 * The freedesktop.org Desktop Notifications interface, as far as peekd uses
 * it. Method names are the D-Bus member names, so they break Java style.
 */
@DBusInterfaceName("org.freedesktop.Notifications")
@SuppressWarnings("checkstyle:MethodName")
public interface Notifications extends DBusInterface {
    String BUS_NAME = "org.freedesktop.Notifications";
    String OBJECT_PATH = "/org/freedesktop/Notifications";

    /** Shows (or, with a non-zero {@code replacesId}, updates) a notification; returns its id. */
    UInt32 Notify(String appName, UInt32 replacesId, String appIcon, String summary, String body,
                  List<String> actions, Map<String, Variant<?>> hints, int expireTimeout);
}

package io.peekd.systemd;

import io.peekd.bpf.UnixDatagram;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The sd_notify protocol: datagrams such as {@code READY=1} to the socket
 * named by {@code NOTIFY_SOCKET}. Without that variable (not started by
 * systemd, or {@code Type=simple}) every call does nothing. A send that fails
 * is logged once; systemd being gone must never stop the daemon.
 */
public final class SdNotify implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd.systemd");
    private final String address;
    private final Duration watchdog;
    private UnixDatagram socket;
    private boolean warned;

    private SdNotify(String address, Duration watchdog) {
        this.address = address;
        this.watchdog = watchdog;
    }

    public static SdNotify fromEnvironment() {
        return from(System.getenv(), ProcessHandle.current().pid());
    }

    /** Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID (the watchdog is ours only if the pid matches or is unset). */
    static SdNotify from(Map<String, String> env, long pid) {
        String addr = env.get("NOTIFY_SOCKET");
        if (addr != null && addr.isEmpty()) addr = null;
        Duration wd = null;
        try {
            String usec = env.get("WATCHDOG_USEC");
            String wpid = env.get("WATCHDOG_PID");
            if (usec != null && (wpid == null || Long.parseLong(wpid) == pid)) {
                long us = Long.parseLong(usec);
                if (us > 0) wd = Duration.ofNanos(us * 1000);
            }
        } catch (NumberFormatException e) {
            LOG.log(System.Logger.Level.WARNING, "ignoring a malformed WATCHDOG_USEC/WATCHDOG_PID");
        }
        return new SdNotify(addr, wd);
    }

    /** Whether systemd listens (NOTIFY_SOCKET is set). */
    public boolean enabled() {
        return address != null;
    }

    /** How often systemd wants a sign of life, if it wants one. */
    public Optional<Duration> watchdogTimeout() {
        return address == null ? Optional.empty() : Optional.ofNullable(watchdog);
    }

    public void ready(String status) {
        send("READY=1\nSTATUS=" + oneLine(status));
    }

    public void status(String status) {
        send("STATUS=" + oneLine(status));
    }

    public void reloading() {
        // MONOTONIC_USEC lets Type=notify-reload units match the reload; plain notify units ignore it.
        send("RELOADING=1\nMONOTONIC_USEC=" + System.nanoTime() / 1000);
    }

    public void stopping() {
        send("STOPPING=1");
    }

    /** Asks systemd for more time to stop (EXTEND_TIMEOUT_USEC), so a slow final write is not killed. */
    public void extendTimeout(java.time.Duration d) {
        send("EXTEND_TIMEOUT_USEC=" + d.toNanos() / 1000);
    }

    public void watchdog() {
        send("WATCHDOG=1");
    }

    private static String oneLine(String s) {
        return s.replace('\n', ' ');
    }

    synchronized void send(String message) {
        if (address == null) return;
        try {
            if (socket == null) socket = UnixDatagram.open();
            socket.send(address, message);
            warned = false;
        } catch (RuntimeException e) {
            if (!warned) LOG.log(System.Logger.Level.WARNING, "cannot notify systemd at " + address + ": " + e.getMessage());
            warned = true;
        }
    }

    @Override
    public synchronized void close() {
        if (socket != null) socket.close();
        socket = null;
    }
}

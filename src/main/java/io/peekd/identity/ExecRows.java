package io.peekd.identity;

import io.peekd.capture.FlowKey;
import io.peekd.capture.KernelEvent;

/**
 * {@code [monitoring] every_exe}: an exec becomes a row of its own, with no
 * bytes, no addresses and ports -1 (as picosnitch stores them), so that a
 * program that never touches the network is still recorded and hashed.
 * The key uses a protocol number no socket has, so it never merges with traffic.
 */
public final class ExecRows {
    /** Not an IP protocol number (those stop at 255): marks a key as an exec. */
    static final int EXEC_PROTO = 0x10000;
    public static final String PROTO = "exec";

    private ExecRows() {
    }

    public static FlowKey key(KernelEvent.Exec e) {
        return new FlowKey(e.tgid(), e.uid(), e.startNs(), e.exeIno(), e.exeDev(), 0, EXEC_PROTO, 0, 0, 0,
                new byte[16], new byte[16]);
    }

    public static boolean isExec(FlowKey k) {
        return k.family() == 0 && k.proto() == EXEC_PROTO;
    }
}

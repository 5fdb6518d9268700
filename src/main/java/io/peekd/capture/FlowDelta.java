package io.peekd.capture;

/** Traffic on one flow since the previous drain. */
public record FlowDelta(FlowKey key, long sent, long recv, long conns) {
}

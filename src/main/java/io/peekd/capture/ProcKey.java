package io.peekd.capture;

/** A process instance: pids are reused, (tgid, start time) is not. */
public record ProcKey(int tgid, long startNs) {
}

package io.peekd.web;

import java.util.concurrent.CountDownLatch;

/** Reaches the stop latch of a running {@code peekd web} in this JVM, so a test can end it. */
final class WebCommandAccess {
    private WebCommandAccess() {
    }

    static CountDownLatch stop() {
        try {
            var f = Class.forName("io.peekd.cli.WebCommand").getDeclaredField("stop");
            f.setAccessible(true);
            return (CountDownLatch) f.get(null);
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }
}

package io.peekd.identity;

import io.peekd.bpf.Fanotify;
import io.peekd.bpf.NativeFile;
import io.peekd.bpf.SysError;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reports writes to files we hold, through fanotify inode marks, on a thread
 * of its own. Where fanotify is missing (an unprivileged container, an old
 * kernel) it is inactive and says so once; callers then rely on mtime and
 * size when they next meet a file.
 */
final class FileWatch implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger("peekd.identity");
    private static final long MASK = Fanotify.FAN_MODIFY | Fanotify.FAN_CLOSE_WRITE;

    private final Fanotify fanotify;
    private final Thread thread;
    private final Consumer<NativeFile.Stat> written;
    private final Runnable lost;
    private volatile boolean running = true;

    /**
     * @param written called (on the watch thread) with the stat of a file that was written to
     * @param lost    called when the kernel dropped events: every held file must be checked
     */
    FileWatch(Consumer<NativeFile.Stat> written, Runnable lost) {
        this.written = written;
        this.lost = lost;
        Fanotify fan = null;
        try {
            fan = Fanotify.open();
        } catch (SysError | RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "fanotify is not available (" + e.getMessage()
                    + "); changed executables are noticed by their mtime and size when next run");
        }
        this.fanotify = fan;
        this.thread = fan == null ? null : Thread.ofPlatform().daemon().name("peekd-fanotify").unstarted(this::run);
        if (thread != null) thread.start();
    }

    boolean active() {
        return fanotify != null;
    }

    /** Starts reporting writes to the inode behind {@code f}. */
    void watch(NativeFile f) throws SysError {
        if (fanotify != null) fanotify.mark(f, MASK);
    }

    /** Stops reporting the inode; before its descriptor is closed, so no mark outlives the cache entry. */
    void unwatch(NativeFile f) {
        if (fanotify == null) return;
        try {
            fanotify.unmark(f, MASK);
        } catch (SysError | RuntimeException e) {
            // not marked, or the group is closed: nothing to undo
        }
    }

    private void run() {
        while (running) {
            List<Fanotify.Event> events;
            try {
                events = fanotify.poll(250);
            } catch (SysError | RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "fanotify stopped: " + e.getMessage()
                        + "; changed executables are noticed by their mtime and size when next run");
                return;
            }
            for (Fanotify.Event ev : events) {
                if (ev.overflow()) {
                    lost.run();
                    continue;
                }
                try (NativeFile f = ev.file()) {
                    written.accept(f.stat());
                } catch (SysError | RuntimeException e) {
                    // the file went away between the event and the stat; its entry ages out
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        if (thread != null) {
            try {
                thread.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (fanotify != null) fanotify.close();
    }
}

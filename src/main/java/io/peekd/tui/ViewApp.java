package io.peekd.tui;

import java.io.IOError;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.ZoneId;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jline.keymap.BindingReader;
import org.jline.keymap.KeyMap;
import org.jline.reader.EndOfFileException;
import org.jline.terminal.Attributes;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.AttributedString;
import org.jline.utils.InfoCmp.Capability;

import io.peekd.bpf.Tty;
import io.peekd.store.Reader;

/**
 * The full-screen loop of {@code peekd view}. Three threads feed one queue: keys (an input
 * thread), answers (the {@link Loader}) and signals/timers; the screen thread alone
 * changes the model and draws, so there is no locking around the state.
 *
 * <p>The terminal is put back the way it was (attributes, main screen, cursor, keypad) on
 * every way out: q, Ctrl-C, end of input, an exception, and SIGTERM/SIGHUP through a
 * shutdown hook.
 */
public final class ViewApp {

    /**
     * How the view starts.
     *
     * @param refresh how often to re-read the database while showing the present; zero for never
     */
    public record Options(Dimension tab, TimeRange range, ByteUnits units, Duration refresh, ZoneId zone) {
    }

    private sealed interface Event {
    }

    private record Key(Keys.Op op) implements Event {
    }

    private record Answer(Loader.Result result) implements Event {
    }

    private record Resized() implements Event {
    }

    private record Tick() implements Event {
    }

    private record Interrupted() implements Event {
    }

    private record InputEnded(String why) implements Event {
    }

    private record Suspend() implements Event {
    }

    private record Resume() implements Event {
    }

    private final Terminal terminal;
    private final Tty.State tty;
    private final Reader reader;
    private final Annotator annotator;
    private final DaemonFeed daemon;
    private final Options options;
    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final AtomicBoolean restored = new AtomicBoolean(true);
    private Attributes saved;
    private Painter painter;
    private Screen screen;

    private ViewApp(Terminal terminal, Tty.State tty, Reader reader, Annotator annotator, DaemonFeed daemon,
                    Options options) {
        this.terminal = terminal;
        this.tty = tty;
        this.reader = reader;
        this.annotator = annotator;
        this.daemon = daemon;
        this.options = options;
    }

    /**
     * Runs the view on {@code terminal} until the user quits, then closes the terminal and
     * puts back {@code tty}, the settings saved before the terminal was opened (null when
     * unknown: then JLine's own restore is all there is). Takes ownership of the reader too
     * (closed when the query thread ends).
     *
     * @param daemon where the rows not stored yet come from while the present is shown; null
     *               for the database alone
     * @return the exit code: 0 after q, Ctrl-C or the end of input
     */
    public static int run(Terminal terminal, Tty.State tty, Reader reader, Annotator annotator, DaemonFeed daemon,
                          Options options) {
        prepareJLine();
        return new ViewApp(terminal, tty, reader, annotator, daemon, options).loop();
    }

    /**
     * Settings JLine reads once, so call this before it draws or opens anything.
     * <ul>
     * <li>JLine swaps box-drawing characters for the terminal's alternate character set.
     * The view draws them only on a UTF-8 terminal, which shows them as they are, and
     * screen captures (tmux capture-pane, script logs) would otherwise read "x" for a bar.
     * <li>Its "non-blocking" pty reads rewrite the terminal settings from its own model
     * before reads (VMIN/VTIME), losing the line speed, and may do so after the view has
     * put the settings back. Plain blocking reads on a thread of JLine's leave them alone.
     * </ul>
     */
    public static void prepareJLine() {
        if (System.getProperty(TerminalBuilder.PROP_DISABLE_ALTERNATE_CHARSET) == null) {
            System.setProperty(TerminalBuilder.PROP_DISABLE_ALTERNATE_CHARSET, "true");
        }
        System.setProperty(TerminalBuilder.PROP_NON_BLOCKING_READS, "false");
    }

    /** True when the terminal can address the cursor; a dumb one gets the printed table instead. */
    public static boolean fullScreenCapable(Terminal t) {
        String type = t.getType() == null ? "" : t.getType();
        return !type.startsWith(Terminal.TYPE_DUMB) && t.getStringCapability(Capability.cursor_address) != null
                && t.getStringCapability(Capability.clear_screen) != null;
    }

    private int loop() {
        Text.Glyphs glyphs = StandardCharsets.UTF_8.equals(terminal.encoding()) ? Text.Glyphs.UNICODE
                : Text.Glyphs.ASCII;
        Integer colors = terminal.getNumericCapability(Capability.max_colors);
        Styles.Palette palette = Styles.Palette.choose(System.getenv("NO_COLOR"), colors == null ? 0 : colors);
        screen = new Screen(Styles.of(palette), glyphs);
        ViewModel model = new ViewModel(options.tab(), options.range(), options.units(), options.zone(),
                () -> System.currentTimeMillis() / 1000);

        Thread hook = Thread.ofPlatform().unstarted(this::shutdown);
        Runtime.getRuntime().addShutdownHook(hook);
        ScheduledExecutorService timer = null;
        Loader loader = new Loader(reader, annotator, daemon, r -> events.add(new Answer(r)));
        try {
            setUp();
            terminal.handle(Terminal.Signal.WINCH, s -> events.add(new Resized()));
            terminal.handle(Terminal.Signal.INT, s -> events.add(new Interrupted()));
            terminal.handle(Terminal.Signal.TSTP, s -> events.add(new Suspend()));
            terminal.handle(Terminal.Signal.CONT, s -> events.add(new Resume()));
            startInput();
            if (options.refresh() != null && !options.refresh().isZero()) {
                timer = Executors.newSingleThreadScheduledExecutor(r -> Thread.ofPlatform()
                        .name("peekd-view-refresh").daemon(true).unstarted(r));
                long ms = options.refresh().toMillis();
                timer.scheduleWithFixedDelay(() -> events.add(new Tick()), ms, ms, TimeUnit.MILLISECONDS);
            }
            long seq = 0;
            request(model, loader, ++seq);
            draw(model);
            while (true) {
                Event e = events.take();
                switch (e) {
                    case Key k -> {
                        if (!model.apply(k.op())) {
                            return 0;
                        }
                        if (k.op() == Keys.Op.REDRAW) {
                            painter.invalidate();
                        }
                    }
                    case Interrupted i -> {
                        return 0;
                    }
                    case InputEnded end -> {
                        return 0;
                    }
                    case Answer a -> {
                        switch (a.result()) {
                            case Loader.Loaded l -> model.accept(l.page());
                            case Loader.Failed f -> model.failed(f.query(), f.message());
                        }
                    }
                    case Resized r -> painter.invalidate();
                    case Tick t -> {
                        // History (h) does not change; "now" does, as the daemon writes.
                        if (model.offset() == 0 && !model.loading()) {
                            model.refresh();
                        }
                    }
                    case Suspend s -> suspend();
                    case Resume r -> {
                        setUp();
                        painter.invalidate();
                    }
                }
                request(model, loader, ++seq);
                // Under a burst of keys (a held arrow) draw once the burst is handled.
                if (events.isEmpty()) {
                    draw(model);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 130;
        } finally {
            loader.close();
            if (timer != null) {
                timer.shutdownNow();
            }
            shutdown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // already shutting down: the hook runs, and restore() is idempotent
            }
        }
    }

    private static void request(ViewModel model, Loader loader, long seq) {
        ViewQuery q = model.nextRequest();
        if (q != null) {
            loader.submit(seq, q);
        }
    }

    private void setUp() {
        synchronized (restored) {
            if (tty != null) {
                // JLine's reader needs one setAttributes of its own before the first read (it
                // keeps the last settings it wrote); the exact settings go on right after.
                terminal.setAttributes(terminal.getAttributes());
            }
            if (tty == null || !tty.enterRaw()) {
                saved = terminal.enterRawMode();
                // Reads block (see prepareJLine): a read must wait for a byte, not time out as "end of input".
                Attributes raw = terminal.getAttributes();
                raw.setControlChar(Attributes.ControlChar.VMIN, 1);
                raw.setControlChar(Attributes.ControlChar.VTIME, 0);
                terminal.setAttributes(raw);
            }
            restored.set(false);
            terminal.puts(Capability.enter_ca_mode);
            terminal.puts(Capability.keypad_xmit);
            terminal.puts(Capability.cursor_invisible);
            terminal.flush();
            painter = new Painter(terminal);
            painter.invalidate();
        }
    }

    /**
     * Leaves the full screen and puts the terminal settings back; safe to call more than
     * once. Used for Ctrl-Z too, so the terminal stays open.
     */
    private void restore() {
        synchronized (restored) {
            if (restored.getAndSet(true)) {
                return;
            }
            try {
                terminal.puts(Capability.cursor_visible);
                terminal.puts(Capability.keypad_local);
                if (terminal.getStringCapability(Capability.exit_ca_mode) != null) {
                    terminal.puts(Capability.exit_ca_mode);
                } else {
                    // No second screen to leave (vt100): leave a clean one for the shell instead.
                    terminal.puts(Capability.clear_screen);
                }
                terminal.flush();
                if (tty != null) {
                    tty.restore();
                } else if (saved != null) {
                    terminal.setAttributes(saved);
                }
            } catch (RuntimeException | IOError e) {
                // the terminal is gone (hang-up): nothing left to restore
            }
        }
    }

    /**
     * The way out, from the loop or from the shutdown hook (SIGTERM, SIGHUP). Closing the
     * terminal makes JLine write its own idea of the old settings (and drops its shutdown
     * hook, or waits for it to finish), so the exact saved settings go back after that.
     */
    private void shutdown() {
        restore();
        synchronized (restored) {
            try {
                terminal.close();
            } catch (IOException | RuntimeException | IOError e) {
                // closing a terminal that hung up: the settings below are what matters
            }
            if (tty != null) {
                tty.restore();
            }
        }
    }

    /** Ctrl-Z: give the shell a normal terminal, then stop as the default action would have. */
    private void suspend() {
        restore();
        try {
            new ProcessBuilder("kill", "-STOP", Long.toString(ProcessHandle.current().pid()))
                    .inheritIO().start().waitFor();
        } catch (IOException e) {
            // cannot stop ourselves: carry on in the foreground
            setUp();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void draw(ViewModel model) {
        Size size = terminal.getSize();
        int rows = Math.max(1, size.getRows());
        int cols = Math.max(1, size.getColumns());
        List<AttributedString> lines = screen.render(model, rows, cols);
        painter.paint(lines, rows, cols);
    }

    private void startInput() {
        KeyMap<Keys.Op> keys = Keys.map(terminal);
        BindingReader br = new BindingReader(terminal.reader());
        Thread.ofPlatform().name("peekd-view-input").daemon(true).start(() -> {
            try {
                while (true) {
                    Keys.Op op = br.readBinding(keys);
                    if (op == null) {
                        events.add(new InputEnded("end of input"));
                        return;
                    }
                    events.add(new Key(op));
                }
            } catch (EndOfFileException | IOError e) {
                events.add(new InputEnded(String.valueOf(e.getMessage())));
            } catch (RuntimeException e) {
                events.add(new InputEnded(e.toString()));
            }
        });
    }
}

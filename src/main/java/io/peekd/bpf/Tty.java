package io.peekd.bpf;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Optional;

/**
 * A terminal's settings (struct termios), saved byte for byte and put back the same way.
 * {@code peekd view} needs this because JLine rebuilds termios from its own flag model,
 * which drops the line speed (CBAUD bits of c_cflag) and the line discipline; after its
 * restore {@code stty -a} showed "speed 0 baud", which on a serial line means hang up.
 */
public final class Tty {

    /** sizeof(struct termios) in glibc on Linux: four flag words, c_line, c_cc[32], padding, two speeds. */
    private static final int TERMIOS_SIZE = 60;
    private static final long IFLAG = 0, LFLAG = 12, CC = 17;
    private static final int VTIME = 5, VMIN = 6;
    private static final int IXON = 0x400, ICRNL = 0x100, INLCR = 0x40;
    private static final int ICANON = 0x2, ECHO = 0x8, IEXTEN = 0x8000;
    private static final int TCSANOW = 0, TCSADRAIN = 1;

    private static final MethodHandle ISATTY = Native.libc("isatty", FunctionDescriptor.of(Native.INT, Native.INT));
    private static final MethodHandle TCGETATTR = Native.libc("tcgetattr",
            FunctionDescriptor.of(Native.INT, Native.INT, Native.PTR));
    private static final MethodHandle TCSETATTR = Native.libc("tcsetattr",
            FunctionDescriptor.of(Native.INT, Native.INT, Native.INT, Native.PTR));

    private Tty() {
    }

    /** The settings of terminal {@code fd} at one moment. */
    public record State(int fd, byte[] termios) {

        public State {
            termios = termios.clone();
        }

        @Override
        public byte[] termios() {
            return termios.clone();
        }

        /** Puts these settings back exactly, after the output written so far has gone out. */
        public boolean restore() {
            return set(fd, TCSADRAIN, termios);
        }

        /**
         * Raw input on top of these settings: no line editing, no echo, no flow control,
         * no CR/NL translation, a read returns as soon as one byte is there. Signals stay
         * on, so Ctrl-C and Ctrl-Z still reach the program; speed and output stay as they were.
         */
        public boolean enterRaw() {
            byte[] raw = termios.clone();
            MemorySegment s = MemorySegment.ofArray(raw);
            int iflag = s.get(ValueLayout.JAVA_INT_UNALIGNED, IFLAG) & ~(IXON | ICRNL | INLCR);
            int lflag = s.get(ValueLayout.JAVA_INT_UNALIGNED, LFLAG) & ~(ICANON | ECHO | IEXTEN);
            s.set(ValueLayout.JAVA_INT_UNALIGNED, IFLAG, iflag);
            s.set(ValueLayout.JAVA_INT_UNALIGNED, LFLAG, lflag);
            raw[(int) CC + VMIN] = 1;
            raw[(int) CC + VTIME] = 0;
            return set(fd, TCSANOW, raw);
        }
    }

    /** The current settings of {@code fd}, or empty when it is not a terminal. */
    public static Optional<State> save(int fd) {
        try (Arena a = Arena.ofConfined()) {
            if ((int) ISATTY.invokeExact(fd) != 1) {
                return Optional.empty();
            }
            // Room to spare in case a libc's struct is larger; only our known prefix is kept.
            MemorySegment buf = a.allocate(256, 8);
            if ((int) TCGETATTR.invokeExact(fd, buf) != 0) {
                return Optional.empty();
            }
            return Optional.of(new State(fd, buf.asSlice(0, TERMIOS_SIZE).toArray(ValueLayout.JAVA_BYTE)));
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }

    private static boolean set(int fd, int when, byte[] termios) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment buf = a.allocate(256, 8);
            MemorySegment.copy(termios, 0, buf, ValueLayout.JAVA_BYTE, 0, termios.length);
            return (int) TCSETATTR.invokeExact(fd, when, buf) == 0;
        } catch (Throwable t) {
            throw Native.rethrow(t);
        }
    }
}

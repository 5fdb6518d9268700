package io.peekd.identity;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * readlink(2) returning the raw bytes. Java decodes link targets with
 * {@code sun.jnu.encoding}, which is ASCII when a daemon starts without a
 * locale (as under a bare systemd unit), and then every non-ASCII byte of an
 * executable's path turns into '?'. Going to libc keeps the bytes, and we
 * decode them as UTF-8 ourselves.
 */
final class NativeReadlink {

    private static final int PATH_MAX = 4096;
    private static final MethodHandle READLINK = lookup();

    private NativeReadlink() {
    }

    @SuppressWarnings("restricted") // the daemon runs with --enable-native-access
    private static MethodHandle lookup() {
        try {
            Linker linker = Linker.nativeLinker();
            return linker.defaultLookup().find("readlink")
                    .map(addr -> linker.downcallHandle(addr, FunctionDescriptor.of(
                            ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG)))
                    .orElse(null);
        } catch (Throwable t) { // native access disabled or unsupported platform: fall back to the JDK
            return null;
        }
    }

    /** The link target decoded as UTF-8 (invalid bytes become U+FFFD). */
    static String read(Path link) throws IOException {
        if (READLINK == null) return Files.readSymbolicLink(link).toString();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment name = arena.allocateFrom(link.toString(), StandardCharsets.UTF_8);
            MemorySegment buf = arena.allocate(PATH_MAX);
            long n = (long) READLINK.invokeExact(name, buf, (long) PATH_MAX);
            if (n < 0) throw new IOException("readlink failed: " + link);
            return new String(buf.asSlice(0, n).toArray(ValueLayout.JAVA_BYTE), StandardCharsets.UTF_8);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IOException("readlink failed: " + link, t);
        }
    }
}

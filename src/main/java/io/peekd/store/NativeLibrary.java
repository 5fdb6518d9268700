package io.peekd.store;

import java.io.IOException;
import java.io.InputStream;
import java.net.JarURLConnection;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import java.util.Set;

/**
 * A lasting copy of sqlite-jdbc's native library next to the installed jar.
 *
 * <p>By default sqlite-jdbc writes its 1 MB library to a temporary directory on every start,
 * after hashing both copies, then loads it: about 60 ms of a 400 ms {@code peekd report}.
 * The launcher names a directory beside the jar ({@code -Dpeekd.native.dir}); the first
 * process that may write there (the install's AOT training run, the daemon) leaves the
 * library under a name that carries the jar entry's CRC, so a new jar never loads an old
 * library, and later processes point sqlite-jdbc at it ({@code org.sqlite.lib.path}).
 * Anything unusual (no such directory, not ours, writable by others, another platform)
 * leaves sqlite-jdbc's own behaviour in place.
 */
final class NativeLibrary {

    static final String DIR_PROPERTY = "peekd.native.dir";
    private static final Set<PosixFilePermission> READABLE = PosixFilePermissions.fromString("rw-r--r--");
    private static final System.Logger LOG = System.getLogger(NativeLibrary.class.getName());

    private NativeLibrary() {
    }

    /** Points sqlite-jdbc at the lasting copy when the launcher asked for one and it can be had. */
    static void useLastingCopy() {
        String dir = System.getProperty(DIR_PROPERTY);
        if (dir == null || System.getProperty("org.sqlite.lib.path") != null) return;
        lastingCopy(Path.of(dir)).ifPresent(lib -> {
            System.setProperty("org.sqlite.lib.path", lib.getParent().toString());
            System.setProperty("org.sqlite.lib.name", lib.getFileName().toString());
        });
    }

    /** The library in {@code dir}, written there first if this process may; empty when it cannot be used. */
    static Optional<Path> lastingCopy(Path dir) {
        try {
            String resource = resource();
            if (resource == null) return Optional.empty();
            URL url = NativeLibrary.class.getClassLoader().getResource(resource);
            if (url == null || !(url.openConnection() instanceof JarURLConnection jar)) return Optional.empty();
            long crc = jar.getJarEntry().getCrc();
            if (crc < 0) return Optional.empty();
            Path lib = dir.resolve("libsqlitejdbc-" + Long.toHexString(crc) + ".so");
            if (!Files.isRegularFile(lib, LinkOption.NOFOLLOW_LINKS)) {
                if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    Path parent = dir.getParent();
                    if (parent == null || !Files.isWritable(parent)) return Optional.empty();
                    Files.createDirectories(dir);
                }
                if (!Files.isWritable(dir)) return Optional.empty();
                Path tmp = Files.createTempFile(dir, ".libsqlitejdbc-", ".tmp");
                try (InputStream in = url.openStream()) {
                    Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(tmp, READABLE);
                    // Atomic: a second process starting now sees either no library or all of it.
                    Files.move(tmp, lib, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
            return trusted(dir) && trusted(lib) ? Optional.of(lib) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "no lasting copy of the SQLite library in " + dir + ": " + e);
            return Optional.empty();
        }
    }

    /** Owned by root or by us, and nobody else may change it: loading it runs its code. */
    private static boolean trusted(Path p) throws IOException {
        int owner = (Integer) Files.getAttribute(p, "unix:uid", LinkOption.NOFOLLOW_LINKS);
        int self = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        Set<PosixFilePermission> perms = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS);
        return (owner == 0 || owner == self) && !perms.contains(PosixFilePermission.GROUP_WRITE)
                && !perms.contains(PosixFilePermission.OTHERS_WRITE);
    }

    /** sqlite-jdbc's library for this machine, for the glibc builds it ships; null elsewhere. */
    private static String resource() {
        if (!"Linux".equals(System.getProperty("os.name"))) return null;
        String arch = switch (System.getProperty("os.arch")) {
            case "amd64", "x86_64" -> "x86_64";
            case "aarch64" -> "aarch64";
            default -> null;
        };
        if (arch == null || Files.exists(Path.of("/lib/ld-musl-x86_64.so.1")) || Files.exists(Path.of("/lib/ld-musl-aarch64.so.1")))
            return null;
        return "org/sqlite/native/Linux/" + arch + "/libsqlitejdbc.so";
    }
}

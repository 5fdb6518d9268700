package io.peekd.web;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * The dashboard's access token: 32 random bytes in hex, in a file only its owner can read
 * ({@code data_dir/web.token}, mode 0600). A dashboard bound to anything but loopback needs it.
 */
public final class Tokens {
    private static final Set<PosixFilePermission> OWNER_RW = PosixFilePermissions.fromString("rw-------");
    private static final SecureRandom RANDOM = new SecureRandom();

    private Tokens() {
    }

    /** Where the token lives for a given data_dir. */
    public static Path file(Path dataDir) {
        return dataDir.resolve("web.token");
    }

    static String random() {
        byte[] b = new byte[32];
        RANDOM.nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    /** Writes a new token (replacing any old one), owner-only from the first byte on, and returns it. */
    public static String create(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        String token = random();
        Path tmp = file.resolveSibling(file.getFileName() + ".new");
        Files.deleteIfExists(tmp);
        Files.writeString(Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_RW)), token + "\n",
                StandardCharsets.US_ASCII);
        Files.setPosixFilePermissions(tmp, OWNER_RW); // the umask may have narrowed it further; never wider
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        return token;
    }

    /** Thrown when the token is missing or unsafe; the message tells the operator what to do. */
    public static final class Problem extends Exception {
        Problem(String message) {
            super(message);
        }
    }

    /**
     * Reads the token, refusing a file that others can read or write (anyone who read it could
     * use the dashboard), a symlink, or one that is not a token.
     */
    public static String load(Path file) throws Problem {
        try {
            if (!Files.exists(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new Problem("there is no access token at " + file + "; create one with `peekd web --new-token`"
                        + " (run as the daemon's user)");
            }
            if (!Files.isRegularFile(file, LinkOption.NOFOLLOW_LINKS)) {
                throw new Problem(file + " is not a regular file; remove it and run `peekd web --new-token`");
            }
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file, LinkOption.NOFOLLOW_LINKS);
            for (PosixFilePermission p : perms) {
                if (!p.name().startsWith("OWNER_")) {
                    throw new Problem(file + " can be read or written by others (mode "
                            + PosixFilePermissions.toString(perms) + "); run `chmod 600 " + file + "`");
                }
            }
            int owner = (Integer) Files.getAttribute(file, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            int self = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
            if (owner != self) {
                throw new Problem(file + " belongs to uid " + owner + ", not to this process (uid " + self
                        + "); run `peekd web --new-token` as the daemon's user");
            }
            String t = Files.readString(file, StandardCharsets.US_ASCII).strip();
            if (!t.matches("[0-9a-f]{32,128}")) {
                throw new Problem(file + " does not hold a token (32..128 hex digits); run `peekd web --new-token`");
            }
            return t;
        } catch (IOException e) {
            throw new Problem("cannot read the access token " + file + ": " + e.getMessage());
        }
    }

    /** Compares in constant time, so the token cannot be guessed a character at a time. */
    static boolean same(String a, String b) {
        if (a == null || b == null) return false;
        return MessageDigest.isEqual(a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }

}

package io.peekd.identity;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * uid to user name from a passwd file. The file is re-read when its size,
 * mtime or inode changes (tools replace it by rename), and on a miss, at most
 * once per five seconds so an unknown uid cannot make us re-read
 * it for every flow. Users known only to NSS (LDAP, sssd) are not seen: the
 * daemon does not load NSS modules.
 */
public final class Users {

    static final long MISS_REREAD_NANOS = 5_000_000_000L;

    private final Path passwd;
    private final long missRereadNanos;
    private Map<Integer, String> names = Map.of();
    private Object version; // what the file looked like when last read
    private long lastRead;

    public Users() {
        this(Path.of("/etc/passwd"));
    }

    public Users(Path passwd) {
        this(passwd, MISS_REREAD_NANOS);
    }

    Users(Path passwd, long missRereadNanos) {
        this.passwd = passwd;
        this.missRereadNanos = missRereadNanos;
        this.lastRead = System.nanoTime() - missRereadNanos;
    }

    /** The user name, or the uid as a decimal string when no entry has it. */
    public String name(int uid) {
        return lookup(uid).orElse(Integer.toUnsignedString(uid));
    }

    public synchronized Optional<String> lookup(int uid) {
        Object now = version();
        if (!Objects.equals(now, version)) reload(now);
        String n = names.get(uid);
        if (n == null && System.nanoTime() - lastRead >= missRereadNanos) {
            reload(now);
            n = names.get(uid);
        }
        return Optional.ofNullable(n);
    }

    private Object version() {
        try {
            BasicFileAttributes a = Files.readAttributes(passwd, BasicFileAttributes.class);
            return List.of(a.size(), a.lastModifiedTime(), String.valueOf(a.fileKey()));
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    private void reload(Object v) {
        lastRead = System.nanoTime();
        version = v;
        try {
            names = parse(new String(Files.readAllBytes(passwd), StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            // keep what we knew: a passwd file being rewritten must not make everyone a number
        }
    }

    /** name:passwd:uid:gid:gecos:home:shell; malformed lines are skipped, the first entry for a uid wins. */
    static Map<Integer, String> parse(String text) {
        Map<Integer, String> m = new HashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#") || line.startsWith("+") || line.startsWith("-")) continue;
            String[] f = line.split(":", -1);
            if (f.length < 4 || f[0].isEmpty()) continue;
            try {
                m.putIfAbsent(Integer.parseUnsignedInt(f[2].trim()), f[0]);
            } catch (NumberFormatException e) {
                // not a uid: skip the line
            }
        }
        return Map.copyOf(m);
    }
}

package io.peekd.rpc;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * User and group lookups for socket callers, from {@code /etc/passwd} and {@code /etc/group}
 * (read at each call: they are small, and a user just added to the group should not wait
 * for a daemon restart). Like the rest of peekd it does not load NSS modules, so users and
 * groups known only to LDAP or sssd are not seen here.
 */
final class Accounts {

    private final Path passwd;
    private final Path group;

    Accounts() {
        this(Path.of("/etc/passwd"), Path.of("/etc/group"));
    }

    Accounts(Path passwd, Path group) {
        this.passwd = passwd;
        this.group = group;
    }

    /** A passwd entry: name, uid and primary gid. */
    record User(String name, int uid, int gid) {
    }

    /** A group entry: name, gid and listed members. */
    record Group(String name, int gid, List<String> members) {
    }

    Optional<User> user(String name) {
        for (String[] f : entries(passwd, 4)) {
            if (f[0].equals(name)) {
                OptionalInt uid = number(f[2]), gid = number(f[3]);
                if (uid.isPresent() && gid.isPresent()) {
                    return Optional.of(new User(f[0], uid.getAsInt(), gid.getAsInt()));
                }
            }
        }
        return Optional.empty();
    }

    Optional<User> user(int uid) {
        for (String[] f : entries(passwd, 4)) {
            OptionalInt u = number(f[2]), gid = number(f[3]);
            if (u.isPresent() && u.getAsInt() == uid && gid.isPresent()) {
                return Optional.of(new User(f[0], uid, gid.getAsInt()));
            }
        }
        return Optional.empty();
    }

    Optional<Group> group(String name) {
        for (String[] f : entries(group, 3)) {
            if (f[0].equals(name)) {
                OptionalInt gid = number(f[2]);
                if (gid.isPresent()) {
                    List<String> members = f.length > 3 && !f[3].isBlank()
                            ? Arrays.stream(f[3].split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList()
                            : List.of();
                    return Optional.of(new Group(f[0], gid.getAsInt(), members));
                }
            }
        }
        return Optional.empty();
    }

    private static List<String[]> entries(Path file, int minFields) {
        try {
            return new String(Files.readAllBytes(file), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.isBlank() && !l.startsWith("#"))
                    .map(l -> l.split(":", -1))
                    .filter(f -> f.length >= minFields)
                    .toList();
        } catch (IOException e) {
            return List.of();
        }
    }

    static OptionalInt number(String s) {
        try {
            long v = Long.parseLong(s.strip());
            return v >= 0 && v <= 0xFFFF_FFFFL ? OptionalInt.of((int) v) : OptionalInt.empty();
        } catch (NumberFormatException e) {
            return OptionalInt.empty();
        }
    }
}

package io.peekd.web;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import io.peekd.config.Cidr;
import io.peekd.flow.IgnoreRules;
import java.io.IOException;
import java.net.IDN;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * {@code ignore_extra.toml}, next to the config file: ignore rules added from the dashboard,
 * on top of the config's {@code [log] ignore_*} lists. The same four lists, as top-level keys:
 * <pre>
 * ignore_ports = [8080]
 * ignore_domains = ["ads.example"]
 * ignore_ips = ["203.0.113.0/24"]
 * ignore_sha256 = []
 * </pre>
 * The daemon watches the file and applies a change within a second; a broken file is reported
 * and the rules in force stay as they were.
 */
public final class IgnoreFile {
    private static final System.Logger LOG = System.getLogger("peekd.web");
    private static final TomlMapper TOML = new TomlMapper();
    private static final Pattern LABEL = Pattern.compile("[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?");
    private static final Set<PosixFilePermission> NEW_MODE = PosixFilePermissions.fromString("rw-r-----");

    /** The kinds of rule, named as in the file without the {@code ignore_} prefix. */
    public enum Kind {
        PORTS, DOMAINS, IPS, SHA256;

        String key() {
            return "ignore_" + name().toLowerCase(Locale.ROOT);
        }

        static Kind parse(String s) {
            for (Kind k : values()) if (k.name().equalsIgnoreCase(s) || k.key().equalsIgnoreCase(s)) return k;
            throw new BadRequest("kind: expected ports, domains, ips or sha256, got \"" + s + "\"");
        }
    }

    /** The lists, each normalised and without duplicates, in the order added. */
    public record Lists(List<Integer> ports, List<String> domains, List<String> ips, List<String> sha256) {
        public Lists {
            ports = List.copyOf(ports);
            domains = List.copyOf(domains);
            ips = List.copyOf(ips);
            sha256 = List.copyOf(sha256);
        }

        static final Lists EMPTY = new Lists(List.of(), List.of(), List.of(), List.of());

        public IgnoreRules rules() {
            return new IgnoreRules(ports, domains, ips, sha256);
        }

        List<String> get(Kind k) {
            return switch (k) {
                case PORTS -> ports.stream().map(String::valueOf).toList();
                case DOMAINS -> domains;
                case IPS -> ips;
                case SHA256 -> sha256;
            };
        }

        Lists with(Kind k, List<String> values) {
            return switch (k) {
                case PORTS -> new Lists(values.stream().map(Integer::valueOf).toList(), domains, ips, sha256);
                case DOMAINS -> new Lists(ports, values, ips, sha256);
                case IPS -> new Lists(ports, domains, values, sha256);
                case SHA256 -> new Lists(ports, domains, ips, values);
            };
        }
    }

    /** The file cannot be used; the message names the file, key and what is wrong. */
    public static final class Invalid extends Exception {
        Invalid(String message) {
            super(message);
        }
    }

    private final Path path;
    private final ReentrantLock lock = new ReentrantLock();

    public IgnoreFile(Path path) {
        this.path = path.toAbsolutePath().normalize();
    }

    /** {@code ignore_extra.toml} in the directory of the given config file. */
    public static IgnoreFile nextTo(Path configFile) {
        return new IgnoreFile(configFile.toAbsolutePath().normalize().resolveSibling("ignore_extra.toml"));
    }

    public Path path() {
        return path;
    }

    /** The lists in the file; none when there is no file. */
    public Lists read() throws Invalid {
        String text;
        try {
            text = Files.readString(path, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Lists.EMPTY;
        } catch (IOException e) {
            throw new Invalid("cannot read " + path + ": " + e.getMessage());
        }
        return parse(text);
    }

    Lists parse(String text) throws Invalid {
        JsonNode root;
        try {
            root = TOML.readTree(text);
        } catch (JsonProcessingException e) {
            throw new Invalid(path + ": not valid TOML: " + e.getOriginalMessage());
        }
        if (root == null || root.isMissingNode()) return Lists.EMPTY;
        for (Iterator<String> it = root.fieldNames(); it.hasNext(); ) {
            String key = it.next();
            boolean known = false;
            for (Kind k : Kind.values()) known |= k.key().equals(key);
            if (!known) throw new Invalid(path + ": unknown key \"" + key + "\"; the file holds ignore_ports,"
                    + " ignore_domains, ignore_ips and ignore_sha256");
        }
        Lists out = Lists.EMPTY;
        for (Kind k : Kind.values()) {
            JsonNode v = root.get(k.key());
            if (v == null) continue;
            if (!v.isArray()) throw new Invalid(path + ": " + k.key() + ": expected an array");
            Set<String> vals = new LinkedHashSet<>();
            for (int i = 0; i < v.size(); i++) {
                JsonNode e = v.get(i);
                String raw = k == Kind.PORTS ? (e.canConvertToInt() && e.isIntegralNumber() ? e.asText() : "\u0000" + e)
                        : e.isTextual() ? e.asText() : "\u0000" + e;
                try {
                    if (raw.startsWith("\u0000")) throw new IllegalArgumentException("wrong type: " + raw.substring(1));
                    vals.add(normalise(k, raw));
                } catch (IllegalArgumentException ex) {
                    throw new Invalid(path + ": " + k.key() + "[" + i + "]: " + ex.getMessage());
                }
            }
            out = out.with(k, List.copyOf(vals));
        }
        return out;
    }

    /**
     * The canonical spelling of one value, as the config's {@code [log]} lists take it.
     *
     * @throws IllegalArgumentException with a message fit for the user
     */
    static String normalise(Kind k, String value) {
        String v = value.strip();
        switch (k) {
            case PORTS -> {
                if (!v.matches("\\d{1,5}") || Integer.parseInt(v) > 65535)
                    throw new IllegalArgumentException("a port is a number 0..65535, got \"" + value + "\"");
                return String.valueOf(Integer.parseInt(v));
            }
            case IPS -> {
                return Cidr.parse(v).toString();
            }
            case SHA256 -> {
                if (v.length() != 64 || !v.chars().allMatch(HexFormat::isHexDigit))
                    throw new IllegalArgumentException("a sha256 is 64 hex digits, got \"" + value + "\"");
                return v.toLowerCase(Locale.ROOT);
            }
            case DOMAINS -> {
                if (v.startsWith("*.")) throw new IllegalArgumentException("a domain already covers its subdomains; write "
                        + v.substring(2));
                if (v.endsWith(".")) v = v.substring(0, v.length() - 1);
                try {
                    v = IDN.toASCII(v, IDN.ALLOW_UNASSIGNED).toLowerCase(Locale.ROOT);
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("\"" + value + "\" is not a valid domain name");
                }
                if (v.isEmpty() || v.length() > 253) throw new IllegalArgumentException("a domain name has 1 to 253 characters");
                for (String label : v.split("\\.", -1)) {
                    if (!LABEL.matcher(label).matches())
                        throw new IllegalArgumentException("\"" + value + "\" is not a valid domain name");
                }
                return v;
            }
        }
        throw new AssertionError(k);
    }

    /** Adds one value (normalised; a duplicate is a no-op) and rewrites the file. Returns the new lists. */
    public Lists add(Kind k, String value) throws Invalid, IOException {
        return change(k, value, true);
    }

    /** Removes one value (normalised) and rewrites the file. Returns the new lists. */
    public Lists remove(Kind k, String value) throws Invalid, IOException {
        return change(k, value, false);
    }

    private Lists change(Kind k, String value, boolean add) throws Invalid, IOException {
        String v = normalise(k, value);
        lock.lock();
        try {
            Lists now = read();
            List<String> vals = new ArrayList<>(now.get(k));
            boolean changed = add ? !vals.contains(v) && vals.add(v) : vals.remove(v);
            if (!changed) return now;
            Lists next = now.with(k, vals);
            write(next);
            return next;
        } finally {
            lock.unlock();
        }
    }

    private void write(Lists l) throws IOException {
        ObjectNode t = TOML.createObjectNode();
        for (Kind k : Kind.values()) {
            ArrayNode a = t.putArray(k.key());
            if (k == Kind.PORTS) l.ports().forEach(a::add);
            else l.get(k).forEach(a::add);
        }
        String text = "# Extra ignore rules for peekd, on top of [log] ignore_* in config.toml.\n"
                + "# Written by the web dashboard; hand edits are fine. The daemon reloads this file\n"
                + "# within a second of a change. Rules apply to traffic from then on, not to history.\n"
                + TOML.writeValueAsString(t);
        Files.createDirectories(path.getParent());
        Path tmp = path.resolveSibling(path.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Set<PosixFilePermission> mode = Files.exists(path) ? Files.getPosixFilePermissions(path) : NEW_MODE;
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(mode));
        Files.writeString(tmp, text, StandardCharsets.UTF_8);
        Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Polls the file once a second and hands each new valid version's rules to {@code apply}
     * (once at the start, too). A broken version is logged and skipped.
     */
    public AutoCloseable watch(Consumer<IgnoreRules> apply) {
        Objects.requireNonNull(apply, "apply");
        Thread t = Thread.ofPlatform().daemon().name("peekd-ignore-watch").unstarted(() -> {
            String seen = null;
            String lastError = null;
            while (!Thread.currentThread().isInterrupted()) {
                String stamp = stamp();
                if (!Objects.equals(stamp, seen)) {
                    seen = stamp;
                    try {
                        Lists l = read();
                        apply.accept(l.rules());
                        if (lastError != null || stamp != null)
                            LOG.log(System.Logger.Level.INFO, "ignore rules from " + path + ": " + l);
                        lastError = null;
                    } catch (Invalid | RuntimeException e) {
                        if (!Objects.equals(lastError, e.getMessage()))
                            LOG.log(System.Logger.Level.ERROR, e.getMessage() + "; keeping the rules in force");
                        lastError = e.getMessage();
                    }
                }
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException e) {
                    return;
                }
            }
        });
        t.start();
        return t::interrupt;
    }

    /** What changes whenever the file does: modification time, size and inode. */
    private String stamp() {
        try {
            FileTime m = Files.getLastModifiedTime(path);
            Object ino = Files.getAttribute(path, "unix:ino", LinkOption.NOFOLLOW_LINKS);
            return m.toMillis() + "/" + Files.size(path) + "/" + ino;
        } catch (IOException | UnsupportedOperationException e) {
            return null;
        }
    }
}

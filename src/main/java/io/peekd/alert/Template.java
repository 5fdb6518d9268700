package io.peekd.alert;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * An exec command: a list of argv words, each made of literal text and {@code {placeholder}}s.
 *
 * <p>A command written as one string is split into words first, the way a shell splits
 * words but with nothing else a shell does: quotes ({@code '...'}, {@code "..."}) and
 * backslashes only group and escape; {@code $}, backquotes, {@code ;}, {@code |},
 * {@code *} and {@code ~} are plain characters. Only then are the placeholders of each word
 * replaced, so a value, whatever it holds (spaces, quotes, {@code $(...)}, newlines),
 * stays inside the one argv element it was put in and is never read as syntax.
 *
 * <p>{@code {{} and {@code }}} stand for literal braces.
 */
record Template(List<List<Part>> words) {

    sealed interface Part {
        record Text(String text) implements Part {
        }

        record Value(String name) implements Part {
        }
    }

    /** A template that cannot be used; the message is fit for the user. */
    static final class Invalid extends Exception {
        Invalid(String message) {
            super(message);
        }
    }

    Template {
        words = List.copyOf(words.stream().map(List::copyOf).toList());
    }

    /** Splits a command line into words, then parses the placeholders of each. */
    static Template parse(String command) throws Invalid {
        List<String> raw = split(command);
        if (raw.isEmpty()) throw new Invalid("the command is empty");
        return of(raw);
    }

    /** A command given as an array: each element is one word, never split. */
    static Template of(List<String> words) throws Invalid {
        if (words.isEmpty()) throw new Invalid("the command is empty");
        List<List<Part>> out = new ArrayList<>();
        for (String w : words) out.add(parts(w));
        if (out.getFirst().isEmpty() || out.getFirst().stream().anyMatch(p -> p instanceof Part.Value))
            throw new Invalid("the program (first word) must be fixed text, not a placeholder");
        Template t = new Template(out);
        t.refuseCodeInjection();
        return t;
    }

    /** The argv for these values. Each word gives exactly one element. */
    List<String> render(AlertValues values) {
        List<String> argv = new ArrayList<>(words.size());
        for (List<Part> w : words) {
            StringBuilder sb = new StringBuilder();
            for (Part p : w) {
                switch (p) {
                    case Part.Text t -> sb.append(t.text());
                    case Part.Value v -> sb.append(values.get(v.name()));
                }
            }
            argv.add(AlertValues.argSafe(sb.toString()));
        }
        return argv;
    }

    boolean hasPlaceholders(List<Part> word) {
        return word.stream().anyMatch(p -> p instanceof Part.Value);
    }

    static List<String> split(String s) throws Invalid {
        List<String> words = new ArrayList<>();
        StringBuilder cur = null;
        int i = 0, n = s.length();
        while (i < n) {
            char c = s.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                if (cur != null) words.add(cur.toString());
                cur = null;
                i++;
                continue;
            }
            if (cur == null) cur = new StringBuilder();
            if (c == '\'') {
                int end = s.indexOf('\'', i + 1);
                if (end < 0) throw new Invalid("unterminated ' quote starting at character " + (i + 1));
                cur.append(s, i + 1, end);
                i = end + 1;
            } else if (c == '"') {
                int j = i + 1;
                while (true) {
                    if (j >= n) throw new Invalid("unterminated \" quote starting at character " + (i + 1));
                    char d = s.charAt(j);
                    if (d == '"') break;
                    if (d == '\\' && j + 1 < n && (s.charAt(j + 1) == '"' || s.charAt(j + 1) == '\\')) {
                        cur.append(s.charAt(j + 1));
                        j += 2;
                    } else {
                        cur.append(d);
                        j++;
                    }
                }
                i = j + 1;
            } else if (c == '\\') {
                if (i + 1 >= n) throw new Invalid("the command ends with a lone backslash");
                cur.append(s.charAt(i + 1));
                i += 2;
            } else {
                cur.append(c);
                i++;
            }
        }
        if (cur != null) words.add(cur.toString());
        return words;
    }

    static List<Part> parts(String word) throws Invalid {
        List<Part> parts = new ArrayList<>();
        StringBuilder text = new StringBuilder();
        int i = 0, n = word.length();
        while (i < n) {
            char c = word.charAt(i);
            if (c == '{' && i + 1 < n && word.charAt(i + 1) == '{') {
                text.append('{');
                i += 2;
            } else if (c == '}' && i + 1 < n && word.charAt(i + 1) == '}') {
                text.append('}');
                i += 2;
            } else if (c == '{') {
                int end = word.indexOf('}', i);
                String name = end < 0 ? null : word.substring(i + 1, end);
                if (name == null || !name.matches("[a-z0-9_]+"))
                    throw new Invalid("\"{\" without a placeholder name and \"}\" in \"" + word
                            + "\"; write {{ for a literal brace");
                if (!AlertValues.NAMES.contains(name))
                    throw new Invalid("unknown placeholder {" + name + "}; placeholders are {"
                            + String.join("} {", AlertValues.NAMES) + "}");
                if (!text.isEmpty()) parts.add(new Part.Text(text.toString()));
                text.setLength(0);
                parts.add(new Part.Value(name));
                i = end + 1;
            } else if (c == '}') {
                throw new Invalid("lone \"}\" in \"" + word + "\"; write }} for a literal brace");
            } else {
                text.append(c);
                i++;
            }
        }
        if (!text.isEmpty()) parts.add(new Part.Text(text.toString()));
        return parts;
    }

    /** Programs that run a string argument as code, and the options that introduce that string. */
    private static final Set<String> INTERPRETERS = Set.of("sh", "bash", "dash", "zsh", "ksh", "mksh", "ash",
            "fish", "busybox", "python", "perl", "ruby", "node", "nodejs", "php", "lua", "tclsh", "awk",
            "gawk", "mawk", "osascript", "pwsh");
    private static final Set<String> CODE_FLAGS = Set.of("-c", "-e", "-E", "-r", "--command", "--eval", "-Command");

    /**
     * Putting a value into the script of {@code sh -c '...'} would be a shell injection again,
     * however the words were split. Such a command is refused; the script can read the value
     * from its environment instead ({@code "$PEEKD_DOMAIN"}, quoted), which is safe.
     */
    private void refuseCodeInjection() throws Invalid {
        // Any word may be the interpreter (behind env, sudo, timeout...): checking them all errs on the safe side.
        for (int k = 0; k < words.size(); k++) {
            String prog = program(words.get(k));
            if (prog == null || !INTERPRETERS.contains(prog)) continue;
            boolean code = false;
            for (int j = k + 1; j < words.size(); j++) {
                List<Part> w = words.get(j);
                String lit = literal(w);
                if (lit != null && CODE_FLAGS.contains(lit)) {
                    code = true;
                    continue;
                }
                boolean awkProgram = prog.endsWith("awk") && j == k + 1 && (lit == null || !lit.startsWith("-"));
                // Only the word right after the flag is code; later words are the script's arguments ($1...).
                boolean isCode = code;
                code = false;
                if ((isCode || awkProgram) && hasPlaceholders(w)) {
                    throw new Invalid("a placeholder inside the code given to " + prog
                            + " would let a hostile value run commands; read it from the environment instead,"
                            + " e.g. \"$PEEKD_DOMAIN\" (quoted) in the script, or pass it as a separate argument");
                }
            }
            return;
        }
    }

    /** The base name of a literal word without version digits (python3.11 → python), or null. */
    private static String program(List<Part> w) {
        String lit = literal(w);
        if (lit == null) return null;
        String base = lit.substring(lit.lastIndexOf('/') + 1).toLowerCase(Locale.ROOT);
        return base.replaceFirst("[0-9.]+$", "");
    }

    private static String literal(List<Part> w) {
        if (w.isEmpty()) return "";
        if (w.size() == 1 && w.getFirst() instanceof Part.Text t) return t.text();
        return null;
    }
}

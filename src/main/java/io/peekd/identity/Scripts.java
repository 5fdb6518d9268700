package io.peekd.identity;

import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Which script (or jar) an interpreter runs, read from its argv, so that two
 * python programs are two identities rather than one "/usr/bin/python3".
 * A shebang script ends up here too: the kernel runs the interpreter with
 * the script's path as its first argument.
 */
public final class Scripts {
    private static final Pattern PYTHON = Pattern.compile("(python|pypy)[0-9.]*(-dbg)?");
    private static final Pattern SHELL = Pattern.compile("(ba|da|z|k|mk|yash|fi)?sh");
    private static final Pattern PERL = Pattern.compile("perl[0-9.]*");
    private static final Pattern RUBY = Pattern.compile("ruby[0-9.]*");
    private static final Pattern NODE = Pattern.compile("node(js)?[0-9.]*");
    private static final Pattern JAVA = Pattern.compile("java");

    /** Interpreter families, each with its own option syntax. */
    enum Kind { PYTHON, SHELL, PERL, RUBY, NODE, JAVA }

    private Scripts() {
    }

    static Kind kind(String exePath) {
        if (exePath == null) return null;
        String base = exePath.substring(exePath.lastIndexOf('/') + 1);
        if (PYTHON.matcher(base).matches()) return Kind.PYTHON;
        if (SHELL.matcher(base).matches()) return Kind.SHELL;
        if (PERL.matcher(base).matches()) return Kind.PERL;
        if (RUBY.matcher(base).matches()) return Kind.RUBY;
        if (NODE.matcher(base).matches()) return Kind.NODE;
        if (JAVA.matcher(base).matches()) return Kind.JAVA;
        return null;
    }

    /** True if {@code exePath} names an interpreter whose argv may name a script. */
    public static boolean isInterpreter(String exePath) {
        return kind(exePath) != null;
    }

    // Options that consume the next argument, per family. A script never follows them directly.
    private static final Set<String> PY_ARG = Set.of("-W", "-X", "-Q");
    private static final Set<String> PY_NONE = Set.of("-c", "-m", "-");
    private static final Set<String> SH_ARG = Set.of("-o", "+o", "-O", "+O", "--rcfile", "--init-file");
    private static final Set<String> SH_NONE = Set.of("-c", "-s", "-");
    private static final Set<String> PERL_NONE = Set.of("-e", "-E", "-");
    private static final Set<String> RUBY_ARG = Set.of("-I", "-r", "-C", "-E", "--encoding");
    private static final Set<String> RUBY_NONE = Set.of("-e", "-");
    private static final Set<String> NODE_ARG = Set.of("-r", "--require", "--import", "--loader",
            "--experimental-loader", "--input-type", "--title", "--env-file", "-C", "--conditions");
    private static final Set<String> NODE_NONE = Set.of("-e", "--eval", "-p", "--print", "-i", "--interactive", "-");
    private static final Set<String> JAVA_ARG = Set.of("-cp", "-classpath", "--class-path", "-p", "--module-path",
            "--upgrade-module-path", "--add-modules", "--add-opens", "--add-exports", "--add-reads",
            "--enable-native-access", "--limit-modules", "--patch-module", "-d", "--describe-module");

    /**
     * The script's path as argv names it (possibly relative), or null when the
     * interpreter runs inline code, a module, stdin, or nothing at all.
     */
    public static String scriptOf(String exePath, List<String> argv) {
        Kind k = kind(exePath);
        if (k == null || argv == null || argv.size() < 2) return null;
        if (k == Kind.JAVA) {
            for (int i = 1; i < argv.size() - 1; i++) {
                String a = argv.get(i);
                if (a.equals("-jar")) return argv.get(i + 1);
                if (JAVA_ARG.contains(a)) i++;
                else if (!a.startsWith("-")) return null; // a main class: no file to hash
            }
            return null;
        }
        Set<String> takesArg = switch (k) {
            case PYTHON -> PY_ARG;
            case SHELL -> SH_ARG;
            case RUBY -> RUBY_ARG;
            case NODE -> NODE_ARG;
            default -> Set.of();
        };
        Set<String> none = switch (k) {
            case PYTHON -> PY_NONE;
            case SHELL -> SH_NONE;
            case PERL -> PERL_NONE;
            case RUBY -> RUBY_NONE;
            case NODE -> NODE_NONE;
            default -> Set.of();
        };
        for (int i = 1; i < argv.size(); i++) {
            String a = argv.get(i);
            if (a.equals("--")) return i + 1 < argv.size() ? nonEmpty(argv.get(i + 1)) : null;
            if (none.contains(a)) return null;
            if (takesArg.contains(a)) {
                i++;
                continue;
            }
            if (a.startsWith("-") || (k == Kind.SHELL && a.startsWith("+"))) {
                // Bundled short flags: "-uc" runs inline code as surely as "-c".
                if (!a.startsWith("--") && a.length() > 2 && bundledInline(k, a)) return null;
                continue;
            }
            return nonEmpty(a);
        }
        return null;
    }

    private static boolean bundledInline(Kind k, String a) {
        String flags = a.substring(1);
        return switch (k) {
            case PYTHON -> "WX".indexOf(flags.charAt(0)) < 0 && (flags.indexOf('c') >= 0 || flags.indexOf('m') >= 0);
            case SHELL -> flags.indexOf('c') >= 0 || flags.indexOf('s') >= 0;
            // -M, -m and -I carry a module or directory name attached, which may contain any letter.
            case PERL -> "MmIi0lx".indexOf(flags.charAt(0)) < 0 && (flags.indexOf('e') >= 0 || flags.indexOf('E') >= 0);
            case RUBY -> "IrCE".indexOf(flags.charAt(0)) < 0 && flags.indexOf('e') >= 0;
            default -> false;
        };
    }

    private static String nonEmpty(String s) {
        return s == null || s.isEmpty() ? null : s;
    }

    /** An absolute script path: relative ones are taken from the process's working directory. */
    static String absolute(String script, String cwd) {
        if (script == null) return null;
        if (script.startsWith("/")) return java.nio.file.Path.of(script).normalize().toString();
        if (cwd == null || !cwd.startsWith("/")) return null;
        return java.nio.file.Path.of(cwd).resolve(script).normalize().toString();
    }
}

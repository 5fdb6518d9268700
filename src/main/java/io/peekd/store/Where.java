package io.peekd.store;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Function;

/**
 * The condition of {@code peekd report --where}, parsed into a tree and compiled to SQL
 * with bound parameters. It is deliberately not raw SQL: the daemon runs reports for other
 * users over its socket, and a caller who may only see their own processes must not be
 * able to widen the query with a well-placed {@code OR}.
 *
 * <pre>
 * expr    := or
 * or      := and ("or" and)*
 * and     := not ("and" not)*
 * not     := "not" not | "(" expr ")" | field op value | field "in" "(" value ("," value)* ")"
 * op      := = | != | &lt;&gt; | &lt; | &lt;= | &gt; | &gt;= | ~ (glob: * and ?) | like (% and _)
 * value   := 'text' | "text" | bare word
 * </pre>
 *
 * Unknown values (no domain, no address) compare as the empty string {@code ''}.
 */
public final class Where {

    /** A field that conditions may name. */
    public enum Field {
        EXE(false, false), NAME(false, false), SHA256(false, false), PARENT(false, false), PNAME(false, false),
        PSHA256(false, false), UID(false, true), USER(false, false), CONTAINER(false, false),
        PROTO(false, false), FAMILY(false, true), DOMAIN(false, false), RADDR(false, false), RPORT(false, true),
        COUNTRY(false, false), ASN(false, false),
        LPORT(true, true), LADDR(true, false), PID(true, true), PPID(true, true), CMDLINE(true, false),
        PCMDLINE(true, false), CGROUP(true, false), DOMAIN_SOURCE(true, false), DOMAIN_CONFIDENCE(true, false);

        /** Only the raw windows keep it; the rollups drop it. */
        public final boolean rawOnly;
        public final boolean numeric;

        Field(boolean rawOnly, boolean numeric) {
            this.rawOnly = rawOnly;
            this.numeric = numeric;
        }

        public String key() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Field parse(String s, int pos) {
            for (Field f : values()) {
                if (f.key().equals(s.toLowerCase(Locale.ROOT))) {
                    return f;
                }
            }
            List<String> names = new ArrayList<>();
            for (Field f : values()) {
                names.add(f.key());
            }
            throw new IllegalArgumentException("unknown field \"" + s + "\" at " + (pos + 1) + "; fields are "
                    + String.join(", ", names) + " (sent, recv and conns cannot be filtered: rows are summed first)");
        }
    }

    sealed interface Node permits And, Or, Not, Cmp, In {
    }

    record And(Node l, Node r) implements Node {
    }

    record Or(Node l, Node r) implements Node {
    }

    record Not(Node n) implements Node {
    }

    record Cmp(Field field, String op, Object value) implements Node {
    }

    record In(Field field, List<Object> values) implements Node {
    }

    private static final Set<String> KEYWORDS = Set.of("and", "or", "not", "in", "like");
    private static final int MAX_LENGTH = 4_096;
    private static final int MAX_DEPTH = 50;

    private final String text;
    private final Node root;

    private Where(String text, Node root) {
        this.text = text;
        this.root = root;
    }

    /**
     * @throws IllegalArgumentException with a message that names the position of the problem
     */
    public static Where parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty condition; write for example: domain ~ '*.example.com' and rport = 443");
        }
        if (text.length() > MAX_LENGTH) {
            throw new IllegalArgumentException("condition longer than " + MAX_LENGTH + " characters");
        }
        Parser p = new Parser(text);
        Node n = p.expr(0);
        if (p.peek() != null) {
            throw p.error("unexpected \"" + p.peek().text + "\"");
        }
        return new Where(text, n);
    }

    /** The condition as the user wrote it. */
    public String text() {
        return text;
    }

    /** Whether a field only the raw windows have is named, so the rollups cannot answer. */
    public boolean needsRaw() {
        return fields().stream().anyMatch(f -> f.rawOnly);
    }

    /** Every field the condition names. */
    public List<Field> fields() {
        List<Field> out = new ArrayList<>();
        collect(root, out);
        return out;
    }

    private static void collect(Node n, List<Field> out) {
        switch (n) {
            case And a -> {
                collect(a.l(), out);
                collect(a.r(), out);
            }
            case Or o -> {
                collect(o.l(), out);
                collect(o.r(), out);
            }
            case Not x -> collect(x.n(), out);
            case Cmp c -> out.add(c.field());
            case In i -> out.add(i.field());
        }
    }

    /** SQL for the condition, with {@code column} giving each field's expression; values go to {@code args}. */
    String sql(Function<Field, String> column, List<Object> args) {
        return sql(root, column, args);
    }

    private static String sql(Node n, Function<Field, String> column, List<Object> args) {
        return switch (n) {
            case And a -> "(" + sql(a.l(), column, args) + " AND " + sql(a.r(), column, args) + ")";
            case Or o -> "(" + sql(o.l(), column, args) + " OR " + sql(o.r(), column, args) + ")";
            case Not x -> "(NOT " + sql(x.n(), column, args) + ")";
            case Cmp c -> {
                String col = column.apply(c.field());
                args.add(c.value());
                yield switch (c.op()) {
                    case "~" -> "(" + col + " GLOB ?)";
                    case "like" -> "(" + col + " LIKE ? ESCAPE '\\')";
                    default -> "(" + col + " " + c.op() + " ?)";
                };
            }
            case In i -> {
                String col = column.apply(i.field());
                args.addAll(i.values());
                yield "(" + col + " IN (" + "?, ".repeat(i.values().size() - 1) + "?))";
            }
        };
    }

    @Override
    public String toString() {
        return text;
    }

    private record Token(String text, boolean quoted, int pos) {
    }

    private static final class Parser {
        private final String s;
        private final List<Token> tokens = new ArrayList<>();
        private int next;

        Parser(String s) {
            this.s = s;
            lex();
        }

        private void lex() {
            int i = 0;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (Character.isWhitespace(c)) {
                    i++;
                } else if (c == '\'' || c == '"') {
                    int start = i;
                    StringBuilder sb = new StringBuilder();
                    i++;
                    while (true) {
                        if (i >= s.length()) {
                            throw new IllegalArgumentException("unclosed " + c + " starting at " + (start + 1));
                        }
                        char d = s.charAt(i);
                        if (d == c) {
                            // A doubled quote stands for itself, as in SQL.
                            if (i + 1 < s.length() && s.charAt(i + 1) == c) {
                                sb.append(c);
                                i += 2;
                                continue;
                            }
                            i++;
                            break;
                        }
                        sb.append(d);
                        i++;
                    }
                    tokens.add(new Token(sb.toString(), true, start));
                } else if ("()=,~".indexOf(c) >= 0) {
                    tokens.add(new Token(String.valueOf(c), false, i));
                    i++;
                } else if (c == '!' || c == '<' || c == '>') {
                    int start = i;
                    i++;
                    if (i < s.length() && (s.charAt(i) == '=' || c == '<' && s.charAt(i) == '>')) {
                        i++;
                    }
                    String op = s.substring(start, i);
                    if (op.equals("!")) {
                        throw new IllegalArgumentException("\"!\" at " + (start + 1) + " must be followed by =");
                    }
                    tokens.add(new Token(op, false, start));
                } else {
                    int start = i;
                    while (i < s.length() && !Character.isWhitespace(s.charAt(i)) && "()=,~!<>'\"".indexOf(s.charAt(i)) < 0) {
                        i++;
                    }
                    tokens.add(new Token(s.substring(start, i), false, start));
                }
            }
        }

        Token peek() {
            return next < tokens.size() ? tokens.get(next) : null;
        }

        private boolean keyword(String k) {
            Token t = peek();
            return t != null && !t.quoted() && t.text().equalsIgnoreCase(k);
        }

        private Token take(String what) {
            Token t = peek();
            if (t == null) {
                throw new IllegalArgumentException("condition ends where " + what + " was expected");
            }
            next++;
            return t;
        }

        IllegalArgumentException error(String msg) {
            Token t = peek();
            int pos = t == null ? s.length() : t.pos();
            return new IllegalArgumentException(msg + " at " + (pos + 1) + " in: " + s);
        }

        Node expr(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("condition nested too deeply");
            }
            Node l = and(depth);
            while (keyword("or")) {
                next++;
                l = new Or(l, and(depth));
            }
            return l;
        }

        private Node and(int depth) {
            Node l = not(depth);
            while (keyword("and")) {
                next++;
                l = new And(l, not(depth));
            }
            return l;
        }

        private Node not(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("condition nested too deeply");
            }
            if (keyword("not")) {
                next++;
                return new Not(not(depth + 1));
            }
            Token t = peek();
            if (t != null && !t.quoted() && t.text().equals("(")) {
                next++;
                Node n = expr(depth + 1);
                Token close = peek();
                if (close == null || close.quoted() || !close.text().equals(")")) {
                    throw error("expected )");
                }
                next++;
                return n;
            }
            return comparison();
        }

        private Node comparison() {
            Token f = take("a field name");
            if (f.quoted() || KEYWORDS.contains(f.text().toLowerCase(Locale.ROOT)) || "()=,~".contains(f.text())) {
                next--;
                throw error("expected a field name");
            }
            Field field = Field.parse(f.text(), f.pos());
            if (keyword("in")) {
                next++;
                Token open = take("(");
                if (open.quoted() || !open.text().equals("(")) {
                    next--;
                    throw error("expected ( after in");
                }
                List<Object> values = new ArrayList<>();
                while (true) {
                    values.add(value(field));
                    Token sep = take(", or )");
                    if (!sep.quoted() && sep.text().equals(")")) {
                        break;
                    }
                    if (sep.quoted() || !sep.text().equals(",")) {
                        next--;
                        throw error("expected , or )");
                    }
                    if (values.size() >= 1_000) {
                        throw error("more than 1000 values in one list");
                    }
                }
                return new In(field, values);
            }
            Token op = take("an operator (=, !=, <, <=, >, >=, ~, like, in)");
            String o = op.quoted() ? "" : op.text().toLowerCase(Locale.ROOT);
            o = o.equals("<>") ? "!=" : o;
            if (!Set.of("=", "!=", "<", "<=", ">", ">=", "~", "like").contains(o)) {
                next--;
                throw error("expected an operator (=, !=, <, <=, >, >=, ~, like, in)");
            }
            if ((o.equals("~") || o.equals("like")) && field.numeric) {
                next--;
                throw error(field.key() + " is a number; " + o + " compares text");
            }
            return new Cmp(field, o, value(field));
        }

        private Object value(Field field) {
            Token v = take("a value");
            if (!v.quoted() && ("()=,~<>!".contains(v.text()) || KEYWORDS.contains(v.text().toLowerCase(Locale.ROOT))
                    || v.text().startsWith("!") || v.text().startsWith("<") || v.text().startsWith(">"))) {
                next--;
                throw error("expected a value");
            }
            if (field.numeric) {
                try {
                    return Long.parseLong(v.text());
                } catch (NumberFormatException e) {
                    next--;
                    throw error(field.key() + " is a number, not \"" + v.text() + "\"");
                }
            }
            return v.text();
        }
    }
}

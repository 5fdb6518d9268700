import io.peekd.cli.Main;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Times peekd commands in one JVM: the first run is cold (classes loading, SQLite pages
 * from disk), the next ones warm. Prints min, median and max of the warm runs in ms.
 *
 * usage: Measure CONFIG RUNS -- command args... [-- command args...]
 */
public final class Measure {
    public static void main(String[] args) {
        String config = args[0];
        int runs = Integer.parseInt(args[1]);
        List<List<String>> commands = new ArrayList<>();
        for (int i = 2; i < args.length; i++) {
            if (args[i].equals("--")) {
                commands.add(new ArrayList<>());
            } else {
                commands.getLast().add(args[i]);
            }
        }
        for (List<String> cmd : commands) {
            if (cmd.getFirst().equals("sql")) {
                sql(cmd.get(1), cmd.get(2), runs);
                continue;
            }
            List<String> argv = new ArrayList<>(cmd);
            argv.add(1, "--config");
            argv.add(2, config);
            long[] ms = new long[runs];
            long[] cpu = new long[runs];
            String out = "";
            long cold = 0;
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            for (int r = -1; r < runs; r++) {
                StringWriter o = new StringWriter(), e = new StringWriter();
                long t = System.nanoTime();
                long c0 = mx.getCurrentThreadCpuTime();
                int rc = Main.run(new PrintWriter(o), new PrintWriter(e), argv.toArray(String[]::new));
                long el = (System.nanoTime() - t) / 1_000_000;
                long cpuMs = (mx.getCurrentThreadCpuTime() - c0) / 1_000_000;
                if (rc != 0) {
                    throw new IllegalStateException(argv + " exited " + rc + ": " + e);
                }
                if (r < 0) {
                    cold = el;
                } else {
                    ms[r] = el;
                    cpu[r] = cpuMs;
                }
                out = o.toString();
            }
            Arrays.sort(ms);
            Arrays.sort(cpu);
            // CPU time of the calling thread (SQLite runs in it): what the command costs on an idle
            // machine; wall time also counts waiting for other processes on a busy one.
            System.out.printf("peekd %s: cold %d ms; warm wall min %d / median %d / max %d ms; warm CPU min %d / median %d ms"
                    + " (%d runs)%n", String.join(" ", cmd), cold, ms[0], ms[runs / 2], ms[runs - 1], cpu[0], cpu[runs / 2], runs);
            String[] lines = out.split("\n");
            for (int i = 0; i < Math.min(lines.length, 8); i++) {
                System.out.println("    " + lines[i]);
            }
            for (int i = Math.max(8, lines.length - 4); i < lines.length; i++) {
                System.out.println("    " + lines[i]);
            }
        }
    }

    /**
     * The baseline: one SQL query over the raw table, read-only, in the same JVM
     * and run: what a report costs without rollups or peekd's own code around it.
     */
    static void sql(String db, String query, int runs) {
        long[] ms = new long[runs];
        long cold = 0;
        try (java.sql.Connection c = java.sql.DriverManager.getConnection("jdbc:sqlite:file:" + db + "?mode=ro")) {
            for (int r = -1; r < runs; r++) {
                long t = System.nanoTime();
                long n = 0;
                try (var st = c.createStatement(); var rs = st.executeQuery(query)) {
                    while (rs.next()) n++;
                }
                long el = (System.nanoTime() - t) / 1_000_000;
                if (r < 0) cold = el;
                else ms[r] = el;
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(query + ": " + e.getMessage(), e);
        }
        Arrays.sort(ms);
        System.out.printf("baseline SQL over raw rows (%s): cold %d ms; warm wall min %d / median %d / max %d ms (%d runs)%n",
                query, cold, ms[0], ms[runs / 2], ms[runs - 1], runs);
    }
}

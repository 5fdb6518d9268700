package io.peekd.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.peekd.config.Config;
import io.peekd.identity.ExeState;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;

@Command(name = "exes", mixinStandardHelpOptions = true,
        description = {"List the executables and scripts peekd has seen, with their sha256 hashes.",
                "Also shows whether the distribution package vouches for each one, and VirusTotal's",
                "verdict when it is on.",
                "Read from state.json, which the daemon rewrites every few seconds.",
                "Example: peekd exes --changed"})
final class ExesCommand implements Callable<Integer> {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Mixin
    ConfigOption config;

    @Option(names = "--exe", paramLabel = "PATH", description = "Only this executable or script path.")
    String exe;

    @Option(names = "--changed", description = "Only executables seen with more than one sha256.")
    boolean changed;

    @Option(names = "--json", description = "Print JSON: {\"executables\": {path: ...}, \"virustotal\": {sha256: ...}}.")
    boolean json;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws IOException {
        Config c = config.load();
        Path file = c.paths().state();
        PrintWriter out = spec.commandLine().getOut();
        if (!Files.exists(file)) {
            spec.commandLine().getErr().println("peekd: no " + file + " yet; has the daemon run with this data_dir?");
            return 1;
        }
        ExeState.Doc doc;
        try {
            doc = ExeState.read(file);
        } catch (IOException e) {
            spec.commandLine().getErr().println("peekd: cannot read " + file + ": " + e.getMessage());
            return 1;
        }
        Map<String, ExeState.Exe> shown = new LinkedHashMap<>();
        doc.executables.forEach((path, e) -> {
            if (exe != null && !exe.equals(path)) return;
            if (changed && e.hashes.size() < 2) return;
            shown.put(path, e);
        });
        if (json) {
            Map<String, ExeState.Verdict> verdicts = new LinkedHashMap<>();
            shown.values().forEach(e -> e.hashes.keySet().forEach(h -> {
                ExeState.Verdict v = doc.virustotal.get(h);
                if (v != null) verdicts.put(h, v);
            }));
            Map<String, Object> o = new LinkedHashMap<>();
            o.put("executables", shown);
            o.put("virustotal", verdicts);
            out.println(JSON.writeValueAsString(o));
            return 0;
        }
        Table t = new Table("LAST SEEN", "PATH", "NAMES", "SHA256", "HASHES", "PACKAGE", "VIRUSTOTAL");
        shown.forEach((path, e) -> {
            var latest = e.hashes.sequencedEntrySet().isEmpty() ? null : e.hashes.lastEntry();
            String sha = latest == null ? null : latest.getKey().substring(0, 16) + "…";
            String pkg = latest == null || latest.getValue().pkg == null ? null
                    : latest.getValue().pkg + " (" + latest.getValue().packageStatus + ")";
            ExeState.Verdict v = latest == null ? null : doc.virustotal.get(latest.getKey());
            String vt = v == null ? null : v.verdict + (v.malicious != null && v.malicious > 0 ? " " + v.malicious + " engines" : "");
            t.row(e.lastSeen, path + (Boolean.TRUE.equals(e.script) ? " (script)" : ""), String.join(",", e.names),
                    sha, Integer.toString(e.hashes.size()), pkg, vt);
        });
        t.print(out);
        return 0;
    }
}

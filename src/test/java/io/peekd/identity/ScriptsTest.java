package io.peekd.identity;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ScriptsTest {

    static String of(String... argv) {
        return Scripts.scriptOf(argv[0], List.of(argv));
    }

    @Test
    void findsTheScriptPastInterpreterOptions() {
        assertThat(of("/usr/bin/python3.11", "-u", "-W", "ignore", "/opt/app/main.py", "--port", "80")).isEqualTo("/opt/app/main.py");
        assertThat(of("/usr/bin/python3", "-Wignore", "-X", "dev", "tool.py")).isEqualTo("tool.py");
        assertThat(of("/usr/bin/bash", "-e", "-o", "pipefail", "deploy.sh", "x")).isEqualTo("deploy.sh");
        assertThat(of("/usr/bin/dash", "--", "-odd-name.sh")).isEqualTo("-odd-name.sh");
        assertThat(of("/usr/bin/node", "--require", "ts-node/register", "--inspect", "server.js")).isEqualTo("server.js");
        assertThat(of("/usr/bin/perl", "-w", "-Mstrict", "-Ilib", "report.pl")).isEqualTo("report.pl");
        assertThat(of("/usr/bin/ruby3.1", "-I", "lib", "-r", "json", "app.rb")).isEqualTo("app.rb");
        assertThat(of("/usr/lib/jvm/x/bin/java", "-Xmx1g", "--add-opens", "a/b=ALL", "-jar", "/srv/app.jar", "run")).isEqualTo("/srv/app.jar");
    }

    @Test
    void inlineCodeModulesAndStdinHaveNoScript() {
        assertThat(of("/usr/bin/python3", "-c", "print(1)")).isNull();
        assertThat(of("/usr/bin/python3", "-m", "http.server")).isNull();
        assertThat(of("/usr/bin/python3", "-uc", "print(1)")).isNull();
        assertThat(of("/usr/bin/python3")).isNull();
        assertThat(of("/usr/bin/bash", "-c", "curl x", "name")).isNull();
        assertThat(of("/usr/bin/bash", "-ec", "curl x")).isNull();
        assertThat(of("/usr/bin/sh", "-s")).isNull();
        assertThat(of("/usr/bin/perl", "-we", "print 1")).isNull();
        assertThat(of("/usr/bin/node", "-e", "1")).isNull();
        assertThat(of("/usr/bin/ruby", "-e", "1")).isNull();
        assertThat(of("/usr/bin/java", "-cp", "a.jar", "com.example.Main")).isNull();
    }

    @Test
    void onlyInterpretersHaveScripts() {
        assertThat(Scripts.isInterpreter("/usr/bin/curl")).isFalse();
        assertThat(Scripts.isInterpreter("/usr/bin/shred")).isFalse();
        assertThat(Scripts.isInterpreter("/usr/bin/zsh")).isTrue();
        assertThat(of("/usr/bin/curl", "file.py")).isNull();
        assertThat(Scripts.isInterpreter(null)).isFalse();
    }

    @Test
    void relativeScriptsAreResolvedAgainstTheWorkingDirectory() {
        assertThat(Scripts.absolute("./bin/../run.sh", "/home/a")).isEqualTo("/home/a/run.sh");
        assertThat(Scripts.absolute("/x/../y.py", null)).isEqualTo("/y.py");
        assertThat(Scripts.absolute("run.sh", null)).isNull();
    }
}

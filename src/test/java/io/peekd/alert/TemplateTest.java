package io.peekd.alert;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TemplateTest {
    private static final String HOSTILE = "x.com; touch /tmp/pwned $(id) `id` \"q\" 'q'\nsecond line {exe}";

    private static AlertValues values(String domain) {
        return new AlertValues(Map.of("exe", "/usr/bin/curl", "raddr", "93.184.216.34", "rport", "443", "domain", domain));
    }

    @Test
    void theSeedExampleSplitsIntoWordsBeforeValuesGoIn() throws Exception {
        Template t = Template.parse("logger 'peekd: {exe} → {raddr}:{rport} ({domain})'");
        assertThat(t.render(values("example.org"))).containsExactly("logger",
                "peekd: /usr/bin/curl → 93.184.216.34:443 (example.org)");
    }

    @Test
    void aHostileValueStaysInsideItsOneArgument() throws Exception {
        Template t = Template.parse("/usr/local/bin/hook --domain {domain} \"d={domain}\" plain");
        assertThat(t.render(values(HOSTILE))).containsExactly("/usr/local/bin/hook", "--domain", HOSTILE,
                "d=" + HOSTILE, "plain");
        // The placeholder-looking text inside the value is data, not expanded again.
        assertThat(t.render(values(HOSTILE)).get(2)).contains("{exe}");
    }

    @Test
    void quotingRulesAreTheShellsWithoutAnyExpansion() throws Exception {
        assertThat(Template.split("a 'b c' \"d \\\"e\\\" $HOME\" f\\ g `id` $(x) ; | *"))
                .containsExactly("a", "b c", "d \"e\" $HOME", "f g", "`id`", "$(x)", ";", "|", "*");
        assertThat(Template.parse("echo {{literal}} }}").render(values("x"))).containsExactly("echo", "{literal}", "}");
    }

    @Test
    void anArrayIsTakenWordForWord() throws Exception {
        Template t = Template.of(List.of("/bin/echo", "a b {domain}", "'{rport}'"));
        assertThat(t.render(values("ex.org"))).containsExactly("/bin/echo", "a b ex.org", "'443'");
    }

    @Test
    void mistakesAreExplained() {
        assertThatThrownBy(() -> Template.parse("echo 'open")).hasMessageContaining("unterminated ' quote");
        assertThatThrownBy(() -> Template.parse("echo {nope}")).hasMessageContaining("unknown placeholder {nope}");
        assertThatThrownBy(() -> Template.parse("echo {exe")).hasMessageContaining("{{");
        assertThatThrownBy(() -> Template.parse("   ")).hasMessageContaining("empty");
        assertThatThrownBy(() -> Template.parse("{exe} --x")).hasMessageContaining("program");
    }

    @Test
    void aValueInsideShellOrInterpreterCodeIsRefused() throws Exception {
        assertThatThrownBy(() -> Template.parse("sh -c 'logger {domain}'")).hasMessageContaining("$PEEKD_DOMAIN");
        assertThatThrownBy(() -> Template.parse("/usr/bin/env bash -c \"echo {exe}\"")).hasMessageContaining("bash");
        assertThatThrownBy(() -> Template.of(List.of("python3", "-c", "print('{domain}')"))).hasMessageContaining("python");
        assertThatThrownBy(() -> Template.parse("awk '{{print \"{domain}\"}}'")).hasMessageContaining("awk");
        // Reading the value from the environment, or passing it as an argument of a script, is fine.
        assertThat(Template.parse("sh -c 'logger \"$PEEKD_DOMAIN\"'").words()).hasSize(3);
        assertThat(Template.parse("sh -c 'logger \"$1\"' peekd {domain}").render(values("a b")))
                .containsExactly("sh", "-c", "logger \"$1\"", "peekd", "a b");
        assertThat(Template.parse("/bin/bash /etc/peekd/hook.sh {domain}").words()).hasSize(3);
    }

    @Test
    void nulCannotReachAnArgument() throws Exception {
        assertThat(Template.parse("echo {domain}").render(values("a\0b"))).containsExactly("echo", "a\uFFFDb");
    }
}

package io.peekd.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DomainNamesTest {

    @ParameterizedTest
    @CsvSource({
            "Example.COM,example.com",
            "example.com.,example.com",
            "WWW.Example.Com.,www.example.com",
            "_dmarc.example.com,_dmarc.example.com",
            "bücher.example,xn--bcher-kva.example",
            "MÜNCHEN.de,xn--mnchen-3ya.de",
            "xn--bcher-kva.example,xn--bcher-kva.example",
            "a-b.c-d.io,a-b.c-d.io",
            "4.3.2.1.in-addr.arpa,4.3.2.1.in-addr.arpa",
    })
    void normalises(String in, String expected) {
        assertThat(DomainNames.normalize(in)).isEqualTo(new ParseResult.Parsed<>(expected));
        assertThat(DomainNames.isCanonical(expected)).isTrue();
    }

    @Test
    void ideographicFullStopSeparatesLabels() {
        assertThat(DomainNames.normalize("例え\u3002テスト").parsed()).contains("xn--r8jz45g.xn--zckzah");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", ".", "..", "a..b", ".example.com", "-a.com", "a-.com", "a b.com", "a/b.com",
            "exa\u0000mple.com", "1.2.3.4", "example.123", "*.example.com", "a\\.b.com", "xn--.com", "xn--zz-.com"})
    void rejects(String in) {
        assertThat(DomainNames.normalize(in)).isInstanceOfSatisfying(ParseResult.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectReason.INVALID_NAME));
    }

    @Test
    void rejectsLongLabelsAndNamesButAcceptsTheLimits() {
        String label63 = "a".repeat(63);
        assertThat(DomainNames.normalize(label63 + ".com").isParsed()).isTrue();
        assertThat(DomainNames.normalize("a".repeat(64) + ".com").isParsed()).isFalse();
        // 4 labels of 61 + dots = 247, plus ".com" = 251 characters: allowed; one more label is not.
        String name251 = String.join(".", List.of("b".repeat(61), "c".repeat(61), "d".repeat(61), "e".repeat(61))) + ".com";
        assertThat(name251).hasSize(251);
        assertThat(DomainNames.normalize(name251).isParsed()).isTrue();
        assertThat(DomainNames.normalize("xyz." + name251).isParsed()).isFalse();
        char[] huge = new char[100_000];
        Arrays.fill(huge, 'a');
        assertThat(DomainNames.normalize(new String(huge))).isInstanceOf(ParseResult.Rejected.class);
        assertThat(DomainNames.normalize(null)).isInstanceOf(ParseResult.Rejected.class);
    }

    @Test
    void suffixMatchingIsLabelWise() {
        assertThat(DomainNames.matchesSuffix("example.com", "example.com")).isTrue();
        assertThat(DomainNames.matchesSuffix("a.example.com", "example.com")).isTrue();
        assertThat(DomainNames.matchesSuffix("A.B.Example.COM.", "example.com")).isTrue();
        assertThat(DomainNames.matchesSuffix("badexample.com", "example.com")).isFalse();
        assertThat(DomainNames.matchesSuffix("example.com", "a.example.com")).isFalse();
        assertThat(DomainNames.matchesSuffix("example.com.evil", "example.com")).isFalse();
        assertThat(DomainNames.matchesSuffix("bücher.example", "xn--bcher-kva.example")).isTrue();
        assertThat(DomainNames.matchesSuffix("not valid.com", "com")).isFalse();
    }

    @Test
    void suffixSetFromConfigKeepsGoodEntriesAndExplainsBadOnes() {
        DomainSuffixSet set = DomainSuffixSet.of(Arrays.asList(" Example.com ", ".internal.corp", "local",
                "bad name", "", null, "-x.org"));
        assertThat(set.suffixes()).containsExactlyInAnyOrder("example.com", "internal.corp", "local");
        assertThat(set.errors()).hasSize(4).allSatisfy(e -> assertThat(e).startsWith("ignored domain entry"));
        assertThat(set.errors().get(0)).contains("bad name");

        assertThat(set.matches("example.com")).isTrue();
        assertThat(set.matches("cdn.EXAMPLE.com.")).isTrue();
        assertThat(set.matches("badexample.com")).isFalse();
        assertThat(set.matches("a.b.internal.corp")).isTrue();
        assertThat(set.matches("internal.corp.evil.net")).isFalse();
        assertThat(set.matches("printer.local")).isTrue();
        assertThat(set.matches("localhost")).isFalse();
        assertThat(set.matches("??")).isFalse();
        assertThat(set.matchingSuffix("x.internal.corp")).isEqualTo("internal.corp");
    }

    @Test
    void suffixSetPrefersLongestSuffix() {
        DomainSuffixSet set = DomainSuffixSet.of(List.of("com", "example.com"));
        assertThat(set.matchingSuffix("a.example.com")).isEqualTo("example.com");
        assertThat(set.matchingSuffix("other.com")).isEqualTo("com");
        assertThat(DomainSuffixSet.of(List.of()).matches("example.com")).isFalse();
    }
}

package io.peekd.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Each stored seed still gives the outcome its name promises, so the fuzz seeds stay meaningful. */
class CorpusTest {

    static Stream<Corpus.Seed> seeds() {
        List<Corpus.Seed> all = Corpus.load();
        assertThat(all).extracting(Corpus.Seed::parser).contains("dns", "dnstcp", "tls", "http", "quic");
        return all.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("seeds")
    void seedGivesItsPromisedOutcome(Corpus.Seed seed) {
        List<? extends ParseResult<?>> results = switch (seed.parser()) {
            case "dns" -> List.of(new DnsAnswers().parseUdp(seed.bytes()));
            case "dnstcp" -> new DnsAnswers().parseTcp(seed.bytes());
            case "tls" -> List.of(new TlsClientHello().parse(seed.bytes()));
            case "http" -> List.of(new HttpRequestHead().parse(seed.bytes()));
            case "quic" -> List.of(new QuicInitial().parse(seed.bytes()));
            default -> throw new AssertionError("unknown parser in seed name " + seed.name());
        };
        assertThat(results).isNotEmpty().allSatisfy(r -> assertThat(r.isParsed()).as("%s: %s", seed.name(), r).isEqualTo(seed.ok()));
    }
}

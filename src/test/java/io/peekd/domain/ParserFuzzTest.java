package io.peekd.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.statistics.Statistics;

/**
 * Mutation fuzzing of every parser from the seed corpus. The property: whatever the bytes,
 * the parser returns a result (never throws, never reports an internal error), counts it
 * exactly once, and anything it does accept satisfies the result's invariants.
 * Fixed seeds and bounded tries keep runs reproducible and short.
 */
class ParserFuzzTest {

    static final int TRIES = 2000;

    enum Op { FLIP_BIT, SET_BYTE, INTERESTING_BYTE, MAX_U16, INSERT, DELETE, TRUNCATE, DUPLICATE, ZERO_RANGE }

    record Mutation(Op op, int where, int value, int len) {
    }

    private static final int[] INTERESTING = {0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xc0, 0xc0 | 12, 0xfe, 0xff};

    static byte[] apply(byte[] seed, List<Mutation> ms) {
        byte[] b = seed.clone();
        for (Mutation m : ms) {
            int n = b.length;
            int at = n == 0 ? 0 : m.where() % n;
            b = switch (m.op()) {
                case FLIP_BIT -> {
                    if (n > 0) b[at] ^= (byte) (1 << (m.value() & 7));
                    yield b;
                }
                case SET_BYTE -> {
                    if (n > 0) b[at] = (byte) m.value();
                    yield b;
                }
                case INTERESTING_BYTE -> {
                    if (n > 0) b[at] = (byte) INTERESTING[m.value() % INTERESTING.length];
                    yield b;
                }
                case MAX_U16 -> {
                    if (n > 1) {
                        int p = Math.min(at, n - 2);
                        b[p] = (byte) 0xff;
                        b[p + 1] = (byte) 0xff;
                    }
                    yield b;
                }
                case INSERT -> {
                    byte[] ins = new byte[m.len()];
                    java.util.Arrays.fill(ins, (byte) m.value());
                    yield TlsBytes.concat(java.util.Arrays.copyOf(b, at), ins, java.util.Arrays.copyOfRange(b, at, n));
                }
                case DELETE -> TlsBytes.concat(java.util.Arrays.copyOf(b, at), java.util.Arrays.copyOfRange(b, Math.min(n, at + m.len()), n));
                case TRUNCATE -> java.util.Arrays.copyOf(b, at);
                case DUPLICATE -> TlsBytes.concat(b, java.util.Arrays.copyOfRange(b, at, Math.min(n, at + m.len() * 8)));
                case ZERO_RANGE -> {
                    java.util.Arrays.fill(b, at, Math.min(n, at + m.len()), (byte) 0);
                    yield b;
                }
            };
        }
        return b;
    }

    static Arbitrary<byte[]> mutated(String... parsers) {
        List<byte[]> seeds = Corpus.load().stream().filter(s -> List.of(parsers).contains(s.parser())).map(Corpus.Seed::bytes).toList();
        Arbitrary<Mutation> mutation = Combinators.combine(Arbitraries.of(Op.class), Arbitraries.integers().between(0, 1 << 16),
                Arbitraries.integers().between(0, 255), Arbitraries.integers().between(1, 64)).as(Mutation::new);
        return Combinators.combine(Arbitraries.of(seeds), mutation.list().ofMinSize(1).ofMaxSize(6)).as(ParserFuzzTest::apply);
    }

    @Provide
    Arbitrary<byte[]> dnsInputs() {
        return mutated("dns", "dnstcp");
    }

    @Provide
    Arbitrary<byte[]> tlsInputs() {
        return mutated("tls");
    }

    @Provide
    Arbitrary<byte[]> httpInputs() {
        return mutated("http");
    }

    @Provide
    Arbitrary<byte[]> quicInputs() {
        return mutated("quic");
    }

    private static void noInternalError(ParseResult<?> r) {
        assertThat(r).isNotNull();
        if (r instanceof ParseResult.Rejected<?>(RejectReason reason, String detail)) {
            assertThat(reason).as(detail).isNotEqualTo(RejectReason.INTERNAL_ERROR);
            assertThat(detail).isNotNull();
        }
    }

    /**
     * Records whether the input was accepted. The fixed seed makes the share deterministic, and
     * {@link #reachesDeepPaths} turns it into a check: a fuzzer whose mutants are all rejected at
     * the first byte would prove nothing.
     */
    private static void outcome(ParseResult<?> r) {
        Statistics.collect(r.isParsed() ? "parsed" : "rejected");
    }

    private static void reachesDeepPaths() {
        Statistics.coverage(c -> c.check("parsed").percentage(p -> p > 2.0));
    }

    private static void canonical(String name) {
        assertThat(DomainNames.isCanonical(name)).as(name).isTrue();
    }

    static void checkDns(ParseResult<DnsAnswer> r) {
        noInternalError(r);
        r.parsed().ifPresent(a -> {
            canonical(a.name());
            a.cnames().forEach(ParserFuzzTest::canonical);
            assertThat(a.cnames()).hasSizeLessThanOrEqualTo(DnsAnswers.MAX_CHAIN).doesNotHaveDuplicates().doesNotContain(a.name());
            for (DnsAnswer.Address ad : a.addresses()) {
                assertThat(ad.owner()).isIn(java.util.stream.Stream.concat(java.util.stream.Stream.of(a.name()), a.cnames().stream()).toList());
                assertThat(ad.ttl()).isBetween(0L, 0xffff_ffffL);
            }
        });
    }

    static void checkHello(ParseResult<ClientHello> r) {
        noInternalError(r);
        r.parsed().ifPresent(h -> {
            h.serverName().ifPresent(ParserFuzzTest::canonical);
            switch (h.status()) {
                case PLAIN -> assertThat(h.serverName()).isPresent();
                case ABSENT -> assertThat(h.serverName()).isEmpty();
                case ENCRYPTED -> { }
            }
            assertThat(h.alpn()).allSatisfy(p -> assertThat(p).isNotEmpty());
        });
    }

    static void checkHttp(ParseResult<HttpHead> r) {
        noInternalError(r);
        r.parsed().ifPresent(h -> {
            assertThat(h.method()).isNotEmpty().hasSizeLessThanOrEqualTo(HttpRequestHead.MAX_METHOD);
            assertThat(h.minorVersion()).isBetween(0, 1);
            h.destination().ifPresent(hp -> {
                assertThat(hp.port()).isBetween(-1, 65535);
                if (hp.kind() == HostPort.Kind.NAME) canonical(hp.host());
            });
            if (h.isConnect()) assertThat(h.targetAuthority()).isPresent();
        });
    }

    @Property(tries = TRIES, seed = "7349021", shrinking = ShrinkingMode.BOUNDED)
    void dnsNeverThrows(@ForAll("dnsInputs") byte[] in) {
        DnsAnswers p = new DnsAnswers();
        ParseResult<DnsAnswer> udp = p.parseUdp(in);
        checkDns(udp);
        outcome(udp);
        reachesDeepPaths();
        List<ParseResult<DnsAnswer>> tcp = p.parseTcp(in);
        assertThat(tcp).isNotEmpty().hasSizeLessThanOrEqualTo(DnsAnswers.MAX_TCP_MESSAGES);
        tcp.forEach(ParserFuzzTest::checkDns);
        assertThat(p.counters().parsed() + p.counters().rejectedTotal()).isEqualTo(1 + tcp.size());
    }

    @Property(tries = TRIES, seed = "7349022", shrinking = ShrinkingMode.BOUNDED)
    void tlsNeverThrows(@ForAll("tlsInputs") byte[] in) {
        TlsClientHello p = new TlsClientHello();
        ParseResult<ClientHello> r = p.parse(in);
        checkHello(r);
        outcome(r);
        reachesDeepPaths();
        assertThat(p.counters().parsed() + p.counters().rejectedTotal()).isEqualTo(1);
    }

    @Property(tries = TRIES, seed = "7349023", shrinking = ShrinkingMode.BOUNDED)
    void httpNeverThrows(@ForAll("httpInputs") byte[] in) {
        HttpRequestHead p = new HttpRequestHead();
        ParseResult<HttpHead> r = p.parse(in);
        checkHttp(r);
        outcome(r);
        reachesDeepPaths();
        assertThat(p.counters().parsed() + p.counters().rejectedTotal()).isEqualTo(1);
    }

    @Property(tries = TRIES, seed = "7349024", shrinking = ShrinkingMode.BOUNDED)
    void quicNeverThrows(@ForAll("quicInputs") byte[] in) {
        QuicInitial p = new QuicInitial();
        checkHello(p.parse(in));
        checkHello(p.parse(List.of(in, in)));
        assertThat(p.counters().parsed() + p.counters().rejectedTotal()).isEqualTo(2);
    }

    /** Every seed of every kind into every parser: cross-feeding finds confusions between formats. */
    @Property(tries = TRIES, seed = "7349025", shrinking = ShrinkingMode.BOUNDED)
    void anyParserAnyInput(@ForAll("allInputs") byte[] in) {
        checkDns(new DnsAnswers().parseUdp(in));
        checkHello(new TlsClientHello().parse(in));
        checkHttp(new HttpRequestHead().parse(in));
        checkHello(new QuicInitial().parse(in));
    }

    @Provide
    Arbitrary<byte[]> allInputs() {
        return Arbitraries.oneOf(mutated("dns", "dnstcp", "tls", "http", "quic"),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(4096));
    }

    @Property(tries = TRIES, seed = "7349026", shrinking = ShrinkingMode.BOUNDED)
    void quicFramesFuzzedUnderValidEncryption(@ForAll("frames") byte[] frames) {
        // Mutating sealed packets mostly trips the AEAD; sealing mutated plaintext reaches the frame
        // and ClientHello code with every packet still authentic.
        ParseResult<ClientHello> r = new QuicInitial().parse(QuicInitialTest.seal(frames));
        checkHello(r);
        outcome(r);
        reachesDeepPaths();
    }

    @Provide
    Arbitrary<byte[]> frames() {
        List<byte[]> hellos = Corpus.forParser("tls").stream().map(s -> s.bytes().length > 5 ? TlsBytes.handshakeOf(s.bytes()) : s.bytes()).toList();
        Arbitrary<Mutation> mutation = Combinators.combine(Arbitraries.of(Op.class), Arbitraries.integers().between(0, 1 << 16),
                Arbitraries.integers().between(0, 255), Arbitraries.integers().between(1, 64)).as(Mutation::new);
        return Combinators.combine(Arbitraries.of(hellos), mutation.list().ofMinSize(1).ofMaxSize(4))
                .as((h, ms) -> apply(QuicInitialTest.crypto(0, h), ms))
                .filter(f -> f.length <= 1100);
    }

    @Property(tries = TRIES, seed = "7349027", shrinking = ShrinkingMode.BOUNDED)
    void domainNamesNeverThrowAndAreIdempotent(@ForAll @Size(max = 300) String s) {
        ParseResult<String> r = DomainNames.normalize(s);
        noInternalError(r);
        r.parsed().ifPresent(n -> {
            assertThat(DomainNames.normalize(n)).isEqualTo(new ParseResult.Parsed<>(n));
            assertThat(n.length()).isLessThanOrEqualTo(DomainNames.MAX_NAME);
            assertThat(DomainNames.matchesSuffix(n, n)).isTrue();
        });
    }
}

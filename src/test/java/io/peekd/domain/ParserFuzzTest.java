package io.peekd.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Mutation fuzzing of every parser from the seed corpus. The property: whatever the bytes,
 * the parser returns a result (never throws, never reports an internal error), counts it
 * exactly once, and anything it does accept satisfies the result's invariants.
 * Fixed seeds and bounded tries keep runs reproducible and short; a failure names the
 * seed and try, so it can be replayed.
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

    static List<byte[]> seeds(String... parsers) {
        return Corpus.load().stream().filter(x -> List.of(parsers).contains(x.parser())).map(Corpus.Seed::bytes).toList();
    }

    static List<Mutation> mutations(Random rnd, int max) {
        List<Mutation> ms = new ArrayList<>();
        int n = 1 + rnd.nextInt(max);
        for (int i = 0; i < n; i++)
            ms.add(new Mutation(Op.values()[rnd.nextInt(Op.values().length)], rnd.nextInt((1 << 16) + 1), rnd.nextInt(256),
                    1 + rnd.nextInt(64)));
        return ms;
    }

    /** A mutant of a random seed, 1..6 mutations deep. */
    static Function<Random, byte[]> mutated(String... parsers) {
        List<byte[]> seeds = seeds(parsers);
        assertThat(seeds).as("corpus seeds for " + List.of(parsers)).isNotEmpty();
        return rnd -> apply(seeds.get(rnd.nextInt(seeds.size())), mutations(rnd, 6));
    }

    /**
     * Runs {@code check} on {@link #TRIES} inputs from a seeded generator. Returns the share of
     * inputs the parser accepted, so a fuzzer whose mutants all die at the first byte is caught.
     */
    static double fuzz(long seed, Function<Random, byte[]> gen, Function<byte[], ParseResult<?>> check) {
        Random rnd = new Random(seed);
        int parsed = 0;
        for (int i = 0; i < TRIES; i++) {
            byte[] in = gen.apply(rnd);
            try {
                if (check.apply(in).isParsed()) parsed++;
            } catch (AssertionError | RuntimeException e) {
                throw new AssertionError("seed " + seed + ", try " + i + ", input " + java.util.HexFormat.of().formatHex(in), e);
            }
        }
        return 100.0 * parsed / TRIES;
    }

    static void fuzzAll(long seed, Function<Random, byte[]> gen, Consumer<byte[]> check) {
        fuzz(seed, gen, in -> {
            check.accept(in);
            return new ParseResult.Rejected<>(RejectReason.EMPTY, "");
        });
    }

    private static void noInternalError(ParseResult<?> r) {
        assertThat(r).isNotNull();
        if (r instanceof ParseResult.Rejected<?>(RejectReason reason, String detail)) {
            assertThat(reason).as(detail).isNotEqualTo(RejectReason.INTERNAL_ERROR);
            assertThat(detail).isNotNull();
        }
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

    @Test
    void dnsNeverThrows() {
        double share = fuzz(7349021, mutated("dns", "dnstcp"), in -> {
            DnsAnswers p = new DnsAnswers();
            ParseResult<DnsAnswer> udp = p.parseUdp(in);
            checkDns(udp);
            List<ParseResult<DnsAnswer>> tcp = p.parseTcp(in);
            assertThat(tcp).isNotEmpty().hasSizeLessThanOrEqualTo(DnsAnswers.MAX_TCP_MESSAGES);
            tcp.forEach(ParserFuzzTest::checkDns);
            assertThat(p.counters().parsed() + p.counters().rejectedTotal()).isEqualTo(1 + tcp.size());
            return udp;
        });
        assertThat(share).as("share of DNS mutants accepted").isGreaterThan(2.0);
    }

    @Test
    void tlsNeverThrows() {
        double share = fuzz(7349022, mutated("tls"), in -> {
            TlsClientHello p = new TlsClientHello();
            ParseResult<ClientHello> r = p.parse(in);
            checkHello(r);
            assertThat(p.counters().parsed() + p.counters().rejectedTotal()).isEqualTo(1);
            return r;
        });
        assertThat(share).as("share of TLS mutants accepted").isGreaterThan(2.0);
    }

    @Test
    void httpNeverThrows() {
        double share = fuzz(7349023, mutated("http"), in -> {
            HttpRequestHead p = new HttpRequestHead();
            ParseResult<HttpHead> r = p.parse(in);
            checkHttp(r);
            assertThat(p.counters().parsed() + p.counters().rejectedTotal()).isEqualTo(1);
            return r;
        });
        assertThat(share).as("share of HTTP mutants accepted").isGreaterThan(2.0);
    }

    @Test
    void quicNeverThrows() {
        fuzzAll(7349024, mutated("quic"), in -> {
            QuicInitial p = new QuicInitial();
            checkHello(p.parse(in));
            checkHello(p.parse(List.of(in, in)));
            assertThat(p.counters().parsed() + p.counters().rejectedTotal()).isEqualTo(2);
        });
    }

    /** Every seed of every kind into every parser, and raw random bytes: cross-feeding finds confusions between formats. */
    @Test
    void anyParserAnyInput() {
        Function<Random, byte[]> corpus = mutated("dns", "dnstcp", "tls", "http", "quic");
        Function<Random, byte[]> gen = rnd -> {
            if (rnd.nextBoolean()) return corpus.apply(rnd);
            byte[] b = new byte[rnd.nextInt(4097)];
            rnd.nextBytes(b);
            return b;
        };
        fuzzAll(7349025, gen, in -> {
            checkDns(new DnsAnswers().parseUdp(in));
            checkHello(new TlsClientHello().parse(in));
            checkHttp(new HttpRequestHead().parse(in));
            checkHello(new QuicInitial().parse(in));
        });
    }

    /**
     * Mutating sealed packets mostly trips the AEAD; sealing mutated plaintext reaches the frame
     * and ClientHello code with every packet still authentic.
     */
    @Test
    void quicFramesFuzzedUnderValidEncryption() {
        List<byte[]> hellos = Corpus.forParser("tls").stream()
                .map(x -> x.bytes().length > 5 ? TlsBytes.handshakeOf(x.bytes()) : x.bytes()).toList();
        Function<Random, byte[]> gen = rnd -> {
            byte[] f;
            do {
                f = apply(QuicInitialTest.crypto(0, hellos.get(rnd.nextInt(hellos.size()))), mutations(rnd, 4));
            } while (f.length > 1100);
            return QuicInitialTest.seal(f);
        };
        double share = fuzz(7349026, gen, in -> {
            ParseResult<ClientHello> r = new QuicInitial().parse(in);
            checkHello(r);
            return r;
        });
        assertThat(share).as("share of sealed QUIC mutants accepted").isGreaterThan(2.0);
    }

    @Test
    void domainNamesNeverThrowAndAreIdempotent() {
        String alphabet = "abcXYZ019-_.*\u00e9\u00df\u0000 \t\u200b\u4e2d/:@";
        Random rnd = new Random(7349027);
        for (int i = 0; i < TRIES; i++) {
            StringBuilder sb = new StringBuilder();
            int n = rnd.nextInt(301);
            for (int j = 0; j < n; j++) sb.append(alphabet.charAt(rnd.nextInt(alphabet.length())));
            String s = sb.toString();
            ParseResult<String> r = DomainNames.normalize(s);
            noInternalError(r);
            r.parsed().ifPresent(name -> {
                assertThat(DomainNames.normalize(name)).isEqualTo(new ParseResult.Parsed<>(name));
                assertThat(name.length()).isLessThanOrEqualTo(DomainNames.MAX_NAME);
                assertThat(DomainNames.matchesSuffix(name, name)).isTrue();
            });
        }
    }
}

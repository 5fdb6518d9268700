package io.peekd.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

class DnsAnswersTest {

    private final DnsAnswers parser = new DnsAnswers();

    static Name name(String s) {
        try {
            return Name.fromString(s, Name.root);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    static InetAddress ip(String literal) {
        return InetAddress.ofLiteral(literal);
    }

    static Message response(String qname, int qtype, Record... answers) {
        Message m = new Message(0x4242);
        m.getHeader().setFlag(Flags.QR);
        m.getHeader().setFlag(Flags.RD);
        m.getHeader().setFlag(Flags.RA);
        m.addRecord(Record.newRecord(name(qname), qtype, DClass.IN), Section.QUESTION);
        for (Record r : answers) m.addRecord(r, Section.ANSWER);
        return m;
    }

    static ARecord a(String owner, long ttl, String addr) {
        return new ARecord(name(owner), DClass.IN, ttl, ip(addr));
    }

    static AAAARecord aaaa(String owner, long ttl, String addr) {
        return new AAAARecord(name(owner), DClass.IN, ttl, ip(addr));
    }

    static CNAMERecord cname(String owner, String target) {
        return new CNAMERecord(name(owner), DClass.IN, 300, name(target));
    }

    private DnsAnswer parsed(byte[] wire) {
        ParseResult<DnsAnswer> r = parser.parseUdp(wire);
        assertThat(r).as("%s", r).isInstanceOf(ParseResult.Parsed.class);
        return r.parsed().orElseThrow();
    }

    private void rejected(byte[] wire, RejectReason reason) {
        assertThat(parser.parseUdp(wire)).isInstanceOfSatisfying(ParseResult.Rejected.class,
                r -> assertThat(r.reason()).as(r.detail()).isEqualTo(reason));
    }

    @Test
    void cnameChainToAddresses() {
        Message m = response("WWW.Example.com.", Type.A,
                cname("www.example.com.", "www.example.com.cdn.net."),
                cname("www.example.com.cdn.net.", "edge7.cdn.net."),
                a("edge7.cdn.net.", 20, "192.0.2.10"),
                a("edge7.cdn.net.", 20, "192.0.2.11"),
                a("unrelated.evil.", 9999, "203.0.113.66"));
        DnsAnswer d = parsed(m.toWire());
        assertThat(d.name()).isEqualTo("www.example.com");
        assertThat(d.queryType()).isEqualTo(Type.A);
        assertThat(d.cnames()).containsExactly("www.example.com.cdn.net", "edge7.cdn.net");
        assertThat(d.canonicalName()).isEqualTo("edge7.cdn.net");
        assertThat(d.addresses()).containsExactly(
                new DnsAnswer.Address(ip("192.0.2.10"), 20, "edge7.cdn.net"),
                new DnsAnswer.Address(ip("192.0.2.11"), 20, "edge7.cdn.net"));
        assertThat(d.complete()).isTrue();
    }

    @Test
    void aaaaAndByteBuffer() {
        Message m = response("v6.example.org.", Type.AAAA, aaaa("v6.example.org.", 3600, "2001:db8::53"));
        byte[] wire = m.toWire();
        ByteBuffer b = ByteBuffer.allocate(wire.length + 3);
        b.put(new byte[] {9, 9, 9}).put(wire).flip().position(3);
        DnsAnswer d = parser.parseUdp(b).parsed().orElseThrow();
        assertThat(b.position()).isEqualTo(3);
        assertThat(d.addresses()).containsExactly(new DnsAnswer.Address(ip("2001:db8::53"), 3600, "v6.example.org"));
        assertThat(d.cnames()).isEmpty();
    }

    @Test
    void twoNamesSharingOneAddress() {
        DnsAnswer one = parsed(response("a.example.", Type.A, a("a.example.", 60, "198.51.100.1")).toWire());
        DnsAnswer two = parsed(response("b.example.", Type.A, a("b.example.", 30, "198.51.100.1")).toWire());
        assertThat(one.name()).isEqualTo("a.example");
        assertThat(two.name()).isEqualTo("b.example");
        assertThat(one.addresses().getFirst().address()).isEqualTo(two.addresses().getFirst().address());

        // Within one message the same address under the question and a CNAME target is one entry,
        // owned by the name nearest the question, with that record's TTL.
        DnsAnswer same = parsed(response("c.example.", Type.A,
                cname("c.example.", "d.example."),
                a("d.example.", 10, "198.51.100.1"),
                a("c.example.", 50, "198.51.100.1")).toWire());
        assertThat(same.addresses()).containsExactly(new DnsAnswer.Address(ip("198.51.100.1"), 50, "c.example"));
    }

    @Test
    void cnameLoopStopsAndKeepsItsChain() {
        DnsAnswer d = parsed(response("x.example.", Type.A,
                cname("x.example.", "y.example."), cname("y.example.", "x.example."),
                a("y.example.", 5, "192.0.2.99")).toWire());
        assertThat(d.cnames()).containsExactly("y.example");
        assertThat(d.addresses()).extracting(DnsAnswer.Address::owner).containsExactly("y.example");
    }

    @Test
    void longCnameChainIsBounded() {
        Record[] rs = new Record[40];
        for (int i = 0; i < 40; i++) rs[i] = cname("n" + i + ".example.", "n" + (i + 1) + ".example.");
        DnsAnswer d = parsed(response("n0.example.", Type.A, rs).toWire());
        assertThat(d.cnames()).hasSize(DnsAnswers.MAX_CHAIN);
    }

    @Test
    void noAddressAnswersAndOtherTypes() throws Exception {
        DnsAnswer mx = parsed(response("example.net.", Type.MX,
                new MXRecord(name("example.net."), DClass.IN, 60, 10, name("mail.example.net.")),
                new TXTRecord(name("example.net."), DClass.IN, 60, "v=spf1 -all")).toWire());
        assertThat(mx.addresses()).isEmpty();
        assertThat(mx.queryType()).isEqualTo(Type.MX);
        DnsAnswer ptr = parsed(response("4.3.2.1.in-addr.arpa.", Type.PTR).toWire());
        assertThat(ptr.name()).isEqualTo("4.3.2.1.in-addr.arpa");
    }

    @Test
    void ignoresErrorsAndQueries() {
        Message nx = response("nope.example.", Type.A);
        nx.getHeader().setRcode(Rcode.NXDOMAIN);
        rejected(nx.toWire(), RejectReason.RCODE_ERROR);
        Message servfail = response("nope.example.", Type.A);
        servfail.getHeader().setRcode(Rcode.SERVFAIL);
        rejected(servfail.toWire(), RejectReason.RCODE_ERROR);
        rejected(Message.newQuery(Record.newRecord(name("q.example."), Type.A, DClass.IN)).toWire(), RejectReason.NOT_RESPONSE);
        Message noQuestion = new Message(7);
        noQuestion.getHeader().setFlag(Flags.QR);
        rejected(noQuestion.toWire(), RejectReason.NO_QUESTION);
        assertThat(parser.counters().rejected(RejectReason.RCODE_ERROR)).isEqualTo(2);
        assertThat(parser.counters().rejected(RejectReason.NOT_RESPONSE)).isEqualTo(1);
        assertThat(parser.counters().parsed()).isZero();
    }

    @Test
    void truncatedCaptureKeepsWholeRecordsBeforeTheCut() {
        Message m = response("t.example.", Type.A,
                a("t.example.", 60, "192.0.2.1"), a("t.example.", 60, "192.0.2.2"), a("t.example.", 60, "192.0.2.3"));
        byte[] wire = m.toWire();
        // Each answer is 16 bytes (pointer 2 + fixed 10 + rdata 4); cut in the middle of the third.
        int cut = wire.length - 16 + 7;
        DnsAnswer d = parsed(java.util.Arrays.copyOf(wire, cut));
        assertThat(d.complete()).isFalse();
        assertThat(d.addresses()).extracting(DnsAnswer.Address::address).containsExactly(ip("192.0.2.1"), ip("192.0.2.2"));
        rejected(java.util.Arrays.copyOf(wire, 20), RejectReason.TRUNCATED);
        rejected(java.util.Arrays.copyOf(wire, 11), RejectReason.TRUNCATED);
        for (int n = 0; n <= wire.length; n++) {
            assertThat(parser.parseUdp(java.util.Arrays.copyOf(wire, n))).isNotNull();
        }
    }

    @Test
    void serverTruncatedFlagMarksIncomplete() {
        Message m = response("tc.example.", Type.A, a("tc.example.", 60, "192.0.2.1"));
        m.getHeader().setFlag(Flags.TC);
        assertThat(parsed(m.toWire()).complete()).isFalse();
    }

    @Test
    void tcpStreamWithSeveralMessages() {
        byte[] one = response("one.example.", Type.A, a("one.example.", 1, "192.0.2.1")).toWire();
        byte[] two = response("two.example.", Type.AAAA, aaaa("two.example.", 2, "2001:db8::2")).toWire();
        byte[] three = response("three.example.", Type.A, a("three.example.", 3, "192.0.2.3"), a("three.example.", 3, "192.0.2.4")).toWire();
        ByteArrayOutputStream s = new ByteArrayOutputStream();
        for (byte[] w : List.of(one, two, three)) {
            s.write(w.length >> 8);
            s.write(w.length);
            s.writeBytes(w);
        }
        byte[] stream = s.toByteArray();
        List<ParseResult<DnsAnswer>> all = parser.parseTcp(stream);
        assertThat(all).extracting(r -> r.parsed().orElseThrow().name()).containsExactly("one.example", "two.example", "three.example");

        // Cut inside the last message's final record: its first address survives.
        List<ParseResult<DnsAnswer>> cut = parser.parseTcp(ByteBuffer.wrap(stream, 0, stream.length - 3));
        assertThat(cut).hasSize(3);
        DnsAnswer last = cut.get(2).parsed().orElseThrow();
        assertThat(last.complete()).isFalse();
        assertThat(last.addresses()).extracting(DnsAnswer.Address::address).containsExactly(ip("192.0.2.3"));

        // A stray byte after the last message: the prefix is cut.
        List<ParseResult<DnsAnswer>> stray = parser.parseTcp(java.util.Arrays.copyOf(stream, stream.length + 1));
        assertThat(stray).hasSize(4).last().isEqualTo(new ParseResult.Rejected<DnsAnswer>(RejectReason.TRUNCATED, "length prefix cut off at byte " + stream.length));

        byte[] zero = java.util.Arrays.copyOf(stream, stream.length + 2);
        assertThat(parser.parseTcp(zero).getLast()).isInstanceOfSatisfying(ParseResult.Rejected.class,
                r -> assertThat(r.reason()).isEqualTo(RejectReason.ZERO_LENGTH_MESSAGE));
        assertThat(parser.parseTcp(new byte[0])).hasSize(1);
        // Many tiny messages: output stays bounded.
        byte[] many = new byte[14 * 1000];
        for (int i = 0; i < many.length; i += 14) many[i + 1] = 12; // 12-byte all-zero queries
        assertThat(parser.parseTcp(many)).hasSize(DnsAnswers.MAX_TCP_MESSAGES)
                .allSatisfy(r -> assertThat(r).isEqualTo(new ParseResult.Rejected<DnsAnswer>(RejectReason.NOT_RESPONSE, "query, not a response")));
    }

    // ---- hand-made hostile messages ----

    /** Response header with the given counts, then the bytes. */
    static byte[] raw(int qd, int an, String hexBody) {
        byte[] body = HexFormat.of().parseHex(hexBody.replace(" ", ""));
        ByteBuffer b = ByteBuffer.allocate(12 + body.length);
        b.putShort((short) 0x1234).putShort((short) 0x8180).putShort((short) qd).putShort((short) an)
                .putShort((short) 0).putShort((short) 0).put(body);
        return b.array();
    }

    static final String Q_EXAMPLE_COM = "076578616d706c6503636f6d00 0001 0001"; // example.com A IN, at offset 12

    @Test
    void wellFormedHandMadeBaseline() {
        DnsAnswer d = parsed(raw(1, 1, Q_EXAMPLE_COM + "c00c 0001 0001 0000003c 0004 c0000201"));
        assertThat(d.addresses()).containsExactly(new DnsAnswer.Address(ip("192.0.2.1"), 60, "example.com"));
    }

    @Test
    void compressionPointerToItself() {
        // answer owner at offset 29 points to 29
        rejected(raw(1, 1, Q_EXAMPLE_COM + "c01d 0001 0001 0000003c 0004 c0000201"), RejectReason.BAD_COMPRESSION);
    }

    @Test
    void compressionLoopThroughALabel() {
        // offset 29: label "a", then pointer back to 29: a.a.a.a... until the name limit
        rejected(raw(1, 1, Q_EXAMPLE_COM + "0161 c01d 0001 0001 0000003c 0004 c0000201"), RejectReason.NAME_TOO_LONG);
    }

    @Test
    void compressionPointerForwardOrPastEnd() {
        rejected(raw(1, 1, Q_EXAMPLE_COM + "c0ff 0001 0001 0000003c 0004 c0000201"), RejectReason.BAD_COMPRESSION);
        rejected(raw(1, 1, Q_EXAMPLE_COM + "ffff 0001 0001 0000003c 0004 c0000201"), RejectReason.BAD_COMPRESSION);
        rejected(raw(1, 0, "c00c 0001 0001"), RejectReason.BAD_COMPRESSION);
    }

    @Test
    void labelLengthOverflowAndReservedLabelTypes() {
        // 63-byte label announced, 3 bytes present: the capture simply ends
        rejected(raw(1, 0, "3f616263"), RejectReason.TRUNCATED);
        // 0x40 and 0x80 are reserved label types
        rejected(raw(1, 0, "4161 00 0001 0001"), RejectReason.BAD_LABEL);
        rejected(raw(1, 0, "8161 00 0001 0001"), RejectReason.BAD_LABEL);
        // 300 one-byte labels: longer than 255 octets
        rejected(raw(1, 0, "0161".repeat(130) + "00 0001 0001"), RejectReason.NAME_TOO_LONG);
    }

    @Test
    void zeroLengthAndLyingRecordData() {
        // A record with rdlength 0, followed by more bytes: malformed, not a truncation
        rejected(raw(1, 1, Q_EXAMPLE_COM + "c00c 0001 0001 0000003c 0000 c0000201"), RejectReason.BAD_RECORD);
        // A record with rdlength 6: data longer than the type allows
        rejected(raw(1, 1, Q_EXAMPLE_COM + "c00c 0001 0001 0000003c 0006 c00002010000"), RejectReason.BAD_RECORD);
        // rdlength 0 on a type that may be empty is fine; the question still gives the name
        assertThat(parsed(raw(1, 1, Q_EXAMPLE_COM + "c00c 0010 0001 0000003c 0000")).addresses()).isEmpty();
        // rdlength far beyond the message: a cut capture, whole records before it are kept
        DnsAnswer d = parsed(raw(1, 2, Q_EXAMPLE_COM + "c00c 0001 0001 0000003c 0004 c0000201 c00c 0001 0001 0000003c ffff c0"));
        assertThat(d.complete()).isFalse();
        assertThat(d.addresses()).hasSize(1);
    }

    @Test
    void hugeCountsWithFewRecords() {
        DnsAnswer d = parsed(raw(1, 0xffff, Q_EXAMPLE_COM + "c00c 0001 0001 0000003c 0004 c0000201"));
        assertThat(d.complete()).isFalse();
        assertThat(d.addresses()).hasSize(1);
        rejected(raw(0xffff, 0xffff, ""), RejectReason.TRUNCATED);
    }

    @Test
    void invalidQuestionNameIsRejected() {
        // "a b.com": a space inside a label
        rejected(raw(1, 0, "03612062 03636f6d 00 0001 0001"), RejectReason.INVALID_NAME);
        // root question
        rejected(raw(1, 0, "00 0002 0001"), RejectReason.INVALID_NAME);
    }

    @Test
    void emptyAndTinyInputs() {
        rejected(new byte[0], RejectReason.EMPTY);
        rejected(new byte[5], RejectReason.TRUNCATED);
        assertThat(parser.parseUdp((byte[]) null)).isInstanceOf(ParseResult.Rejected.class);
        assertThat(parser.parseUdp((ByteBuffer) null)).isInstanceOf(ParseResult.Rejected.class);
    }
}

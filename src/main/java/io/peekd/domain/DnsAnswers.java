package io.peekd.domain;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.NameTooLongException;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.WireParseException;

/**
 * Reads DNS responses (wire format, parsed by dnsjava) into {@link DnsAnswer} evidence.
 * Queries, other opcodes and error responses are counted and dropped. One instance
 * may be shared between threads; its counters are the parser's metrics.
 */
public final class DnsAnswers {

    /** Longest CNAME chain followed; real resolvers give up around 8-16. */
    static final int MAX_CHAIN = 16;
    /** Upper bound on messages read from one TCP slice, so output stays bounded too. */
    static final int MAX_TCP_MESSAGES = 64;

    private final RejectCounters counters = new RejectCounters();

    public RejectCounters counters() {
        return counters;
    }

    /** One DNS message, as carried in a UDP payload. Never throws. */
    public ParseResult<DnsAnswer> parseUdp(byte[] payload) {
        if (payload == null) return counters.record(rejected(RejectReason.EMPTY, "no payload"));
        return counters.record(safeParse(payload));
    }

    /** Reads the remaining bytes of {@code payload} without moving its position. Never throws. */
    public ParseResult<DnsAnswer> parseUdp(ByteBuffer payload) {
        return parseUdp(payload == null ? null : copy(payload));
    }

    /**
     * DNS over TCP: a stream of messages, each behind a two-byte length. Returns one
     * result per message found (at most {@value #MAX_TCP_MESSAGES}); an unusable length
     * ends the list with a rejection, since the framing after it cannot be trusted.
     */
    public List<ParseResult<DnsAnswer>> parseTcp(byte[] stream) {
        List<ParseResult<DnsAnswer>> out = new ArrayList<>();
        if (stream == null || stream.length == 0) {
            out.add(counters.record(rejected(RejectReason.EMPTY, "no bytes")));
            return out;
        }
        int pos = 0;
        while (pos < stream.length && out.size() < MAX_TCP_MESSAGES) {
            if (stream.length - pos < 2) {
                out.add(counters.record(rejected(RejectReason.TRUNCATED, "length prefix cut off at byte " + pos)));
                break;
            }
            int len = (stream[pos] & 0xff) << 8 | stream[pos + 1] & 0xff;
            pos += 2;
            if (len == 0) {
                out.add(counters.record(rejected(RejectReason.ZERO_LENGTH_MESSAGE, "zero length prefix at byte " + (pos - 2))));
                break;
            }
            if (len > stream.length - pos) {
                // The tail of a long response: read what we have, as for a cut UDP payload.
                byte[] part = java.util.Arrays.copyOfRange(stream, pos, stream.length);
                out.add(counters.record(truncatedOnly(safeParse(part), len, part.length)));
                break;
            }
            out.add(counters.record(safeParse(java.util.Arrays.copyOfRange(stream, pos, pos + len))));
            pos += len;
        }
        return out;
    }

    public List<ParseResult<DnsAnswer>> parseTcp(ByteBuffer stream) {
        return parseTcp(stream == null ? null : copy(stream));
    }

    private static ParseResult<DnsAnswer> truncatedOnly(ParseResult<DnsAnswer> r, int declared, int have) {
        if (r instanceof ParseResult.Parsed<DnsAnswer>(DnsAnswer a) && a.complete()) {
            // dnsjava read all records it was promised within fewer bytes than the prefix said.
            return new ParseResult.Parsed<>(new DnsAnswer(a.name(), a.queryType(), a.addresses(), a.cnames(), false));
        }
        return r;
    }

    private static ParseResult<DnsAnswer> safeParse(byte[] wire) {
        try {
            return parse(wire);
        } catch (Malformed m) {
            return m.toResult();
        } catch (RuntimeException e) {
            // dnsjava's record constructors may throw unchecked exceptions on odd rdata.
            return rejected(RejectReason.BAD_RECORD, "dnsjava: " + e);
        }
    }

    private static ParseResult<DnsAnswer> parse(byte[] wire) {
        if (wire.length == 0) return rejected(RejectReason.EMPTY, "no bytes");
        if (wire.length < 12) return rejected(RejectReason.TRUNCATED, "header needs 12 bytes, got " + wire.length);
        // TC is cleared for parsing because dnsjava then swallows every later parse error;
        // cut-off messages are handled below, with malformed records still caught.
        boolean complete = (wire[2] & 0x02) == 0;
        byte[] strict = wire.clone();
        strict[2] &= ~0x02;
        // Walk the framing first: a capture cut mid-message (or header counts far beyond the
        // records present) is read as the message of its whole records, so dnsjava never
        // sizes its sections from counts the bytes cannot back.
        DnsFraming.Prefix prefix = DnsFraming.cutPrefix(strict);
        if (prefix != null) {
            strict = java.util.Arrays.copyOf(strict, prefix.end());
            for (int s = 0; s < 4; s++) {
                strict[4 + 2 * s] = (byte) (prefix.counts()[s] >> 8);
                strict[5 + 2 * s] = (byte) prefix.counts()[s];
            }
            complete = false;
        }
        Message msg;
        try {
            msg = new Message(strict);
        } catch (IOException e) {
            RejectReason reason = classify(e);
            if (reason == RejectReason.TRUNCATED) {
                // The framing held, so the bytes ran out inside one record's data.
                return rejected(RejectReason.BAD_RECORD, "record data shorter than its type needs (" + e.getMessage() + ")");
            }
            return rejected(reason, "dnsjava: " + e.getMessage());
        }
        if (!msg.getHeader().getFlag(Flags.QR)) return rejected(RejectReason.NOT_RESPONSE, "query, not a response");
        if (msg.getHeader().getOpcode() != Opcode.QUERY) {
            return rejected(RejectReason.NOT_RESPONSE, "opcode " + Opcode.string(msg.getHeader().getOpcode()));
        }
        Record question = msg.getQuestion();
        if (question == null && !complete) return rejected(RejectReason.TRUNCATED, "cut off inside the question");
        if (question == null) return rejected(RejectReason.NO_QUESTION, "response without a question");
        String qname = DomainNames.canonical(question.getName().toString(true));
        if (msg.getRcode() != Rcode.NOERROR) {
            return rejected(RejectReason.RCODE_ERROR, Rcode.string(msg.getRcode()) + " for " + qname);
        }

        List<Record> answers = msg.getSection(Section.ANSWER);
        Map<String, String> cnameOf = new HashMap<>();
        for (Record r : answers) {
            if (r instanceof CNAMERecord c && r.getDClass() == DClass.IN) {
                cnameOf.putIfAbsent(key(r), c.getTarget().toString(true));
            }
        }
        List<String> chain = new ArrayList<>();
        Set<String> owners = new LinkedHashSet<>();
        owners.add(qname);
        String at = qname;
        for (int i = 0; i < MAX_CHAIN; i++) {
            String next = cnameOf.get(at);
            if (next == null) break;
            String target = DomainNames.canonical(next);
            if (!owners.add(target)) break; // a CNAME loop: stop where it closes
            chain.add(target);
            at = target;
        }

        // Keyed by address so that a repeated record (or one IP under two chain names)
        // yields one entry, owned by the name nearest the question.
        Map<InetAddress, DnsAnswer.Address> addrs = new LinkedHashMap<>();
        for (Record r : answers) {
            if (r.getDClass() != DClass.IN) continue;
            InetAddress ip = switch (r) {
                case ARecord a -> a.getAddress();
                case AAAARecord a -> a.getAddress();
                default -> null;
            };
            if (ip == null) continue;
            String owner = key(r);
            if (!owners.contains(owner)) continue; // not about this question: unsolicited, so no evidence
            DnsAnswer.Address cur = addrs.get(ip);
            if (cur == null || rank(owners, owner) < rank(owners, cur.owner())) {
                addrs.put(ip, new DnsAnswer.Address(ip, r.getTTL(), owner));
            }
        }
        return new ParseResult.Parsed<>(new DnsAnswer(qname, question.getType(),
                new ArrayList<>(addrs.values()), chain, complete));
    }

    /** Owner name in canonical form, or a value that matches no canonical name. */
    private static String key(Record r) {
        ParseResult<String> n = DomainNames.normalize(r.getName().toString(true));
        return n instanceof ParseResult.Parsed<String>(String s) ? s : "\0invalid";
    }

    private static int rank(Set<String> owners, String owner) {
        int i = 0;
        for (String o : owners) {
            if (o.equals(owner)) return i;
            i++;
        }
        return i;
    }

    private static RejectReason classify(IOException e) {
        if (e instanceof NameTooLongException) return RejectReason.NAME_TOO_LONG;
        if (!(e instanceof WireParseException)) return RejectReason.BAD_RECORD;
        String m = String.valueOf(e.getMessage());
        if (m.contains("bad compression")) return RejectReason.BAD_COMPRESSION;
        if (m.contains("bad label type")) return RejectReason.BAD_LABEL;
        if (m.contains("end of input") || m.contains("truncated record")) return RejectReason.TRUNCATED;
        return RejectReason.BAD_RECORD;
    }

    private static <T> ParseResult<T> rejected(RejectReason reason, String detail) {
        return new ParseResult.Rejected<>(reason, detail);
    }

    static byte[] copy(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }

}

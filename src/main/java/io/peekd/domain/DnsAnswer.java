package io.peekd.domain;

import java.net.InetAddress;
import java.util.List;

/**
 * Evidence from one DNS response: the name the application asked for, and the
 * addresses it was told, reached directly or through CNAMEs.
 *
 * @param name      canonical question name: the domain that flows to these addresses get
 * @param queryType question type (1 = A, 28 = AAAA, ...)
 * @param addresses A/AAAA answers owned by the question name or a name on its CNAME chain
 * @param cnames    the CNAME chain in order, question excluded: {@code name -> cnames[0] -> cnames[1] ...}
 * @param complete  false when the message was cut short and only its first records were read
 */
public record DnsAnswer(String name, int queryType, List<Address> addresses, List<String> cnames,
                        boolean complete) {

    public DnsAnswer {
        addresses = List.copyOf(addresses);
        cnames = List.copyOf(cnames);
    }

    /**
     * One resolved address.
     *
     * @param owner canonical owner name of the record: the question name or a CNAME target
     * @param ttl   seconds, as sent (0 .. 2^32-1)
     */
    public record Address(InetAddress address, long ttl, String owner) {
    }

    /** The last name on the chain: where the addresses actually live. */
    public String canonicalName() {
        return cnames.isEmpty() ? name : cnames.getLast();
    }
}

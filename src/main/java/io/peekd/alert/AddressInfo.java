package io.peekd.alert;

import java.net.InetAddress;

/**
 * Country and autonomous system of a remote address, for the {@code country} and
 * {@code asn} rule fields. peekd ships no GeoIP data; a component that has some
 * (a MaxMind or DB-IP file, whois) implements this and hands it to {@link AlertService}.
 */
public interface AddressInfo {

    /** ISO 3166 alpha-2 code such as "DE", or null when unknown. */
    String country(InetAddress address);

    /** AS number, or null when unknown. */
    Long asn(InetAddress address);

    /** Knows nothing: rules that use country or asn never match (and say so when loaded). */
    AddressInfo NONE = new AddressInfo() {
        @Override
        public String country(InetAddress address) {
            return null;
        }

        @Override
        public Long asn(InetAddress address) {
            return null;
        }
    };
}

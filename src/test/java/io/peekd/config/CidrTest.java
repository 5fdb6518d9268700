package io.peekd.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CidrTest {

    @ParameterizedTest
    @CsvSource({
            "127.0.0.0/8, 127.0.0.0/8",
            "10.1.2.3, 10.1.2.3/32",
            "0.0.0.0/0, 0.0.0.0/0",
            "::1/128, ::1/128",
            "::1, ::1/128",
            "::/0, ::/0",
            "FD00::/8, fd00::/8",
            "fe80:0:0:0:0:0:0:0/10, fe80::/10",
            "2001:db8:0:1:0:0:0:0/64, 2001:db8:0:1::/64",
            "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1/128",
            "' 192.168.0.0/16 ', 192.168.0.0/16",
    })
    void parsesAndPrintsTheShortForm(String text, String shown) {
        Cidr c = Cidr.parse(text);
        assertThat(c).hasToString(shown);
        assertThat(Cidr.parse(c.toString())).isEqualTo(c);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "''                 | empty network",
            "10.0.0.0/33        | prefix length must be 0..32 for IPv4, got 33",
            "fe80::/129         | prefix length must be 0..128 for IPv6, got 129",
            "10.0.0.0/-1        | prefix length \"-1\" is not a number 0..32",
            "10.0.0.0/          | prefix length \"\" is not a number",
            "10.0.0.0/8/8       | prefix length \"8/8\"",
            "10.0.0.1/8         | host bits are set; did you mean 10.0.0.0/8?",
            "fd00::1/8          | host bits are set; did you mean fd00::/8?",
            "localhost          | \"localhost\" is not an IPv4 or IPv6 address",
            "example.com/24     | \"example.com\" is not an IPv4 or IPv6 address",
            "256.0.0.0/8        | is not an IPv4 or IPv6 address",
            "fe80::1%eth0       | zone index",
            "::ffff:10.0.0.1    | IPv4-mapped IPv6 addresses are not supported",
    })
    void rejectsWithAClearMessage(String text, String message) {
        assertThatThrownBy(() -> Cidr.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void containsAddressesOfItsOwnFamilyOnly() {
        Cidr loopback = Cidr.parse("127.0.0.0/8");
        assertThat(loopback.contains(InetAddress.ofLiteral("127.255.0.1"))).isTrue();
        assertThat(loopback.contains(InetAddress.ofLiteral("128.0.0.1"))).isFalse();
        assertThat(loopback.contains(InetAddress.ofLiteral("::1"))).isFalse();

        Cidr ula = Cidr.parse("fd00::/8");
        assertThat(ula.contains(InetAddress.ofLiteral("fdff:1::2"))).isTrue();
        assertThat(ula.contains(InetAddress.ofLiteral("fe00::1"))).isFalse();

        Cidr odd = Cidr.parse("192.168.4.0/22");
        assertThat(odd.contains(InetAddress.ofLiteral("192.168.7.255"))).isTrue();
        assertThat(odd.contains(InetAddress.ofLiteral("192.168.8.0"))).isFalse();

        assertThat(Cidr.parse("0.0.0.0/0").contains(InetAddress.ofLiteral("8.8.8.8"))).isTrue();
        assertThat(Cidr.parse("::/0").contains(InetAddress.ofLiteral("8.8.8.8"))).isFalse();
    }

    @Test
    void theConstructorGuardsTheSameRulesAsParse() {
        assertThatThrownBy(() -> new Cidr(InetAddress.ofLiteral("10.0.0.1"), 8)).hasMessageContaining("host bits");
        assertThatThrownBy(() -> new Cidr(InetAddress.ofLiteral("10.0.0.0"), 40)).hasMessageContaining("0..32");
        assertThat(new Cidr(InetAddress.ofLiteral("10.0.0.0"), 8)).isEqualTo(Cidr.parse("10.0.0.0/8"));
    }
}

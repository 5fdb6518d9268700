package io.peekd.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SuggestTest {

    private static final List<String> WEB = List.of("enabled", "port", "bind", "refresh_seconds", "default_since", "top_limit");

    @Test
    void suggestsObviousTypos() {
        assertThat(Suggest.nearest("prot", WEB)).contains("port");        // swapped letters
        assertThat(Suggest.nearest("Port", WEB)).contains("port");        // case
        assertThat(Suggest.nearest("bnd", WEB)).contains("bind");         // dropped letter
        assertThat(Suggest.nearest("enable", WEB)).contains("enabled");
        assertThat(Suggest.nearest("top-limit", WEB)).contains("top_limit");
        assertThat(Suggest.nearest("refresh_secs", WEB)).isEmpty();       // too many edits to be sure
    }

    @Test
    void staysQuietWhenNothingIsClose() {
        assertThat(Suggest.nearest("colour", WEB)).isEmpty();
        assertThat(Suggest.nearest("x", WEB)).isEmpty();
        assertThat(Suggest.nearest("ab", List.of("ac", "ad"))).isEmpty(); // a tie is no help
    }

    @Test
    void distanceCountsASwapAsOneEdit() {
        assertThat(Suggest.distance("prot", "port")).isEqualTo(1);
        assertThat(Suggest.distance("kitten", "sitting")).isEqualTo(3);
        assertThat(Suggest.distance("", "abc")).isEqualTo(3);
    }
}

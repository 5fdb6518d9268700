package io.peekd.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.toml.TomlFactory;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Trees must give exactly the trees (node classes included) that ObjectMapper gives. */
class TreesTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @ParameterizedTest
    @ValueSource(strings = {
            "{}", "[]", "null", "true", "\"x\"", "0", "-2147483648", "2147483648", "9223372036854775807",
            "92233720368547758070", "1.5", "-0.0", "1e308",
            "{\"a\":{\"b\":[1,2,{\"c\":null}],\"d\":\"\\u00e9\\n\"},\"e\":false,\"a2\":[[],{}]}",
            "{\"dup\":1,\"dup\":2}", "[1, \"two\", 3.0, [4], {\"five\": 5}]"})
    void jsonTreesEqualObjectMappers(String json) throws Exception {
        JsonNode expected = MAPPER.readTree(json);
        JsonNode got = Trees.parse(json.getBytes(StandardCharsets.UTF_8));
        assertThat(got).isEqualTo(expected);
        assertSameClasses(got, expected);
        // Written and read again, the tree is unchanged, and the text is what ObjectMapper writes.
        assertThat(new String(Trees.bytes(got), StandardCharsets.UTF_8)).isEqualTo(MAPPER.writeValueAsString(expected));
        assertThat(Trees.parse(Trees.bytes(got))).isEqualTo(expected);
        assertThat(Trees.pretty(got)).isEqualTo(expected.toPrettyString());
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "a = 1\nb = \"x\"\n[t]\nlist = [1, 2]\nf = 2.5\nbig = 9223372036854775807\nflag = true\n",
            "[[arr]]\nx = 1\n[[arr]]\nx = 2\n", "d = 1979-05-27T07:32:00Z\nin = { a = 1, b = { c = 'q' } }\n", ""})
    void tomlTreesEqualTomlMappers(String toml) throws Exception {
        JsonNode expected = new TomlMapper().readTree(toml);
        JsonNode got;
        try (JsonParser p = new TomlFactory().createParser(toml)) {
            got = Trees.read(p);
        }
        assertThat(got).isEqualTo(expected);
        assertSameClasses(got, expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"{", "{\"a\":}", "[1,,2]", "{\"a\":1}}"})
    void brokenJsonIsAnError(String json) {
        assertThatThrownBy(() -> Trees.parse(json.getBytes(StandardCharsets.UTF_8))).isInstanceOf(com.fasterxml.jackson.core.JacksonException.class);
    }

    @org.junit.jupiter.api.Test
    void emptyInputIsMissing() throws Exception {
        assertThat(Trees.parse(new byte[0]).isMissingNode()).isTrue();
    }

    private static void assertSameClasses(JsonNode got, JsonNode expected) {
        assertThat(got.getClass()).as("node at %s", expected).isEqualTo(expected.getClass());
        if (expected.isContainerNode()) {
            assertThat(got.size()).isEqualTo(expected.size());
            var names = expected.fieldNames();
            if (expected.isObject()) {
                names.forEachRemaining(n -> assertSameClasses(got.get(n), expected.get(n)));
            } else {
                for (int i = 0; i < expected.size(); i++) {
                    assertSameClasses(got.get(i), expected.get(i));
                }
            }
        }
    }
}

package io.peekd.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamWriteFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.MissingNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * JSON trees read from and written to Jackson's streaming API without an ObjectMapper.
 *
 * <p>Why: building the first ObjectMapper initialises several hundred databind classes
 * (introspection, serializer and deserializer factories), about a fifth of a CLI command's
 * cold start and a few MB of the daemon's metaspace, while the callers here only move
 * trees. The tree types are the ones {@code ObjectMapper.readTree} produces, so code that
 * inspects them cannot tell the difference.
 */
public final class Trees {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final JsonFactory JSON = JsonFactory.builder().disable(StreamWriteFeature.AUTO_CLOSE_TARGET).build();

    private Trees() {
    }

    /**
     * Parses one JSON document; empty input gives a missing node, as {@code readTree} does.
     * Unlike readTree, text after the document is an error: half a message glued to another
     * must not pass for the first one.
     */
    public static JsonNode parse(byte[] json) throws IOException {
        try (JsonParser p = JSON.createParser(json)) {
            return whole(p);
        }
    }

    private static JsonNode whole(JsonParser p) throws IOException {
        JsonNode n = read(p);
        if (!n.isMissingNode() && p.nextToken() != null) {
            throw new JsonParseException(p, "more text after the JSON value");
        }
        return n;
    }

    /** Reads the value at the parser's next token (or its current one, if it has one). */
    public static JsonNode read(JsonParser p) throws IOException {
        JsonToken t = p.hasCurrentToken() ? p.currentToken() : p.nextToken();
        return t == null ? MissingNode.getInstance() : value(p, t);
    }

    private static JsonNode value(JsonParser p, JsonToken t) throws IOException {
        return switch (t) {
            case START_OBJECT -> {
                ObjectNode o = NODES.objectNode();
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String name = p.currentName();
                    o.set(name, value(p, p.nextToken()));
                }
                yield o;
            }
            case START_ARRAY -> {
                ArrayNode a = NODES.arrayNode();
                for (JsonToken e = p.nextToken(); e != JsonToken.END_ARRAY; e = p.nextToken()) {
                    a.add(value(p, e));
                }
                yield a;
            }
            case VALUE_STRING -> NODES.textNode(p.getText());
            case VALUE_NUMBER_INT -> switch (p.getNumberType()) {
                case INT -> NODES.numberNode(p.getIntValue());
                case LONG -> NODES.numberNode(p.getLongValue());
                default -> NODES.numberNode(p.getBigIntegerValue());
            };
            case VALUE_NUMBER_FLOAT -> p.getNumberType() == JsonParser.NumberType.BIG_DECIMAL
                    ? NODES.numberNode(p.getDecimalValue()) : NODES.numberNode(p.getDoubleValue());
            case VALUE_TRUE -> NODES.booleanNode(true);
            case VALUE_FALSE -> NODES.booleanNode(false);
            case VALUE_NULL -> NODES.nullNode();
            case VALUE_EMBEDDED_OBJECT -> NODES.pojoNode(p.getEmbeddedObject());
            default -> throw new IOException("unexpected " + t + " in a JSON value");
        };
    }

    /** Writes {@code n} as compact JSON. */
    public static byte[] bytes(JsonNode n) {
        var buf = new ByteArrayOutputStream(256);
        try (JsonGenerator g = JSON.createGenerator(buf)) {
            write(g, n);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a byte array does not fail
        }
        return buf.toByteArray();
    }

    /** Writes {@code n} indented, for people. */
    public static String pretty(JsonNode n) {
        var buf = new ByteArrayOutputStream(1024);
        try (JsonGenerator g = JSON.createGenerator(buf).useDefaultPrettyPrinter()) {
            write(g, n);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    public static void write(JsonGenerator g, JsonNode n) throws IOException {
        switch (n.getNodeType()) {
            case OBJECT -> {
                g.writeStartObject();
                for (Map.Entry<String, JsonNode> e : n.properties()) {
                    g.writeFieldName(e.getKey());
                    write(g, e.getValue());
                }
                g.writeEndObject();
            }
            case ARRAY -> {
                g.writeStartArray();
                for (JsonNode e : n) {
                    write(g, e);
                }
                g.writeEndArray();
            }
            case STRING -> g.writeString(n.textValue());
            case NUMBER -> {
                switch (n.numberType()) {
                    case INT -> g.writeNumber(n.intValue());
                    case LONG -> g.writeNumber(n.longValue());
                    case BIG_INTEGER -> g.writeNumber(n.bigIntegerValue());
                    case BIG_DECIMAL -> g.writeNumber(n.decimalValue());
                    case FLOAT -> g.writeNumber(n.floatValue());
                    case DOUBLE -> g.writeNumber(n.doubleValue());
                }
            }
            case BOOLEAN -> g.writeBoolean(n.booleanValue());
            case NULL, MISSING -> g.writeNull();
            // No caller puts binary or Java objects into a tree it writes; text keeps them visible.
            case BINARY, POJO -> g.writeString(n.asText());
        }
    }
}

package io.vitfleet.protocol.control;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import java.io.IOException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;

/**
 * Encodes and decodes {@link ControlMessage}s as CBOR (RFC 8949) with Jackson: compact, self-describing, and the
 * same mapping as JSON, so a message can be logged readably. Thread-safe; create one and share it. The Pekko
 * serializer binding will use the same {@link #mapper()} so the wire format is defined once.
 */
public final class ControlCodec {
  private final ObjectMapper mapper;
  private final ObjectWriter writer;
  private final ObjectReader reader;

  /** A codec for messages without actor references (tests, tools); encoding a {@link Hello} fails. */
  public ControlCodec() {
    this(null);
  }

  /**
   * A codec that writes actor references as {@code resolver}'s serialisation format and resolves them when reading:
   * what the Pekko serializer ({@link ControlSerializer}) uses.
   */
  @SuppressWarnings({"unchecked", "rawtypes"})
  public ControlCodec(ActorRefResolver resolver) {
    SimpleModule refs = new SimpleModule("vitfleet-actor-refs");
    refs.addSerializer((Class) ActorRef.class, new JsonSerializer<ActorRef<?>>() {
      @Override
      public void serialize(ActorRef<?> ref, JsonGenerator gen, SerializerProvider p) throws IOException {
        if (resolver == null) {
          throw new IOException("actor references need a codec built with an ActorRefResolver");
        }
        gen.writeString(resolver.toSerializationFormat(ref));
      }
    });
    refs.addDeserializer((Class) ActorRef.class, new JsonDeserializer<ActorRef<?>>() {
      @Override
      public ActorRef<?> deserialize(JsonParser p, DeserializationContext ctx) throws IOException {
        if (resolver == null) {
          throw new IOException("actor references need a codec built with an ActorRefResolver");
        }
        return resolver.resolveActorRef(p.getValueAsString());
      }
    });
    // Unknown fields fail the decode: every process of a cluster runs the same build, so an unknown field means
    // a mixed deployment, which must be noticed rather than half-understood.
    this.mapper = CBORMapper.builder()
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        .addModule(refs)
        .build();
    this.writer = mapper.writerFor(ControlMessage.class);
    this.reader = mapper.readerFor(ControlMessage.class);
  }

  /** The configured CBOR mapper, for serializer bindings that need it. */
  public ObjectMapper mapper() {
    return mapper;
  }

  public byte[] encode(ControlMessage message) {
    try {
      return writer.writeValueAsBytes(message);
    } catch (IOException e) {
      throw new ControlCodecException("cannot encode " + message.getClass().getSimpleName() + ": " + e.getMessage(),
          e);
    }
  }

  public ControlMessage decode(byte[] bytes) {
    return decode(bytes, 0, bytes.length);
  }

  public ControlMessage decode(byte[] bytes, int offset, int length) {
    try {
      return reader.readValue(bytes, offset, length);
    } catch (IOException e) {
      throw new ControlCodecException("cannot decode a control message of " + length + " bytes: "
          + reason(e) + "; is the sender running the same vitfleet build?", e);
    }
  }

  /** Jackson's message without its location suffix, or the root cause's when the record refused the values. */
  private static String reason(IOException e) {
    Throwable cause = e.getCause();
    if (cause instanceof IllegalArgumentException) {
      return cause.getMessage();
    }
    return e instanceof JacksonException j ? j.getOriginalMessage() : e.getMessage();
  }

  /** Thrown when a control message cannot be encoded or decoded; says which and why. */
  public static final class ControlCodecException extends RuntimeException {
    ControlCodecException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}

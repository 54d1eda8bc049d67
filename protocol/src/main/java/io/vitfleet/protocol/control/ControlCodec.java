package io.vitfleet.protocol.control;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import com.fasterxml.jackson.core.JacksonException;
import java.io.IOException;

/**
 * Encodes and decodes {@link ControlMessage}s as CBOR (RFC 8949) with Jackson: compact, self-describing, and the
 * same mapping as JSON, so a message can be logged readably. Thread-safe; create one and share it. The Pekko
 * serializer binding will use the same {@link #mapper()} so the wire format is defined once.
 */
public final class ControlCodec {
  private final ObjectMapper mapper;
  private final ObjectWriter writer;
  private final ObjectReader reader;

  public ControlCodec() {
    // Unknown fields fail the decode: every process of a cluster runs the same build, so an unknown field means
    // a mixed deployment, which must be noticed rather than half-understood.
    this.mapper = CBORMapper.builder()
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
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

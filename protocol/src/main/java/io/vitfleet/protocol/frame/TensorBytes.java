package io.vitfleet.protocol.frame;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * Conversions between Java arrays and the wire representation of a tensor (little-endian, row-major) in direct
 * memory. For edges and tests; the hot path keeps tensors in direct buffers and never converts.
 */
public final class TensorBytes {
  private TensorBytes() {
  }

  /** A new direct buffer holding {@code values} as little-endian float32. */
  public static UnsafeBuffer ofFloats(float[] values) {
    ByteBuffer bytes = ByteBuffer.allocateDirect(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
    bytes.asFloatBuffer().put(values);
    return new UnsafeBuffer(bytes);
  }

  /** The float32 values of {@code buffer[offset, offset + length)}, which must be a multiple of 4 bytes long. */
  public static float[] toFloats(DirectBuffer buffer, int offset, int length) {
    if (length % Float.BYTES != 0) {
      throw new IllegalArgumentException(length + " bytes are not a whole number of float32 values");
    }
    float[] values = new float[length / Float.BYTES];
    for (int i = 0; i < values.length; i++) {
      values[i] = buffer.getFloat(offset + i * Float.BYTES, ByteOrder.LITTLE_ENDIAN);
    }
    return values;
  }
}

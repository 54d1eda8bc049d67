package io.vitfleet.paramstore;

/**
 * bfloat16 as the top 16 bits of a float32: the storage of the momentum (half the bytes of float32, the same
 * exponent range, 8 bits of mantissa).
 */
public final class Bf16 {
  private Bf16() {
  }

  /**
   * Rounds to the nearest bfloat16, ties to even (as the oracle and jax do). NaNs stay NaN (quieted, sign kept),
   * rather than rounding a low-payload NaN to infinity; finite values past the largest bfloat16 round to infinity.
   */
  public static short round(float x) {
    return (short) roundBits(Float.floatToRawIntBits(x));
  }

  /** {@link #round} on the raw bits of a float32; the bfloat16 bits are returned in the low 16 bits, zero above. */
  static int roundBits(int bits) {
    int rounded = (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16;
    // All ones unless the value is a NaN (|bits| above infinity's), without a branch so loops stay vectorisable.
    int notNaN = ((bits & 0x7FFFFFFF) - 0x7F800001) >> 31;
    int nan = (bits >>> 16) | 0x0040;
    return (rounded & notNaN) | (nan & ~notNaN);
  }

  /** The float32 value of a bfloat16 (exact). */
  public static float toFloat(short b) {
    return Float.intBitsToFloat(b << 16);
  }
}

package io.vitfleet.paramstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Bf16Test {

  private static float rounded(float x) {
    return Bf16.toFloat(Bf16.round(x));
  }

  @Test
  void shouldKeepValuesThatAreAlreadyBf16() {
    for (float x : new float[] {0f, -0f, 1f, -2.5f, 0x1.fep127f, Float.MIN_NORMAL, 0x1p-133f}) {
      assertEquals(Float.floatToRawIntBits(x), Float.floatToRawIntBits(rounded(x)), Float.toString(x));
    }
  }

  @Test
  void shouldRoundTiesToEven() {
    // Between 1 (even mantissa) and 1 + 2^-7 (odd): the midpoint goes down to 1.
    assertEquals(1f, rounded(1f + 0x1p-8f));
    // Between 1 + 2^-7 (odd) and 1 + 2^-6 (even): the midpoint goes up.
    assertEquals(1f + 0x1p-6f, rounded(1f + 0x1p-7f + 0x1p-8f));
    // Just above a midpoint rounds up, just below rounds down.
    assertEquals(1f + 0x1p-7f, rounded(Math.nextUp(1f + 0x1p-8f)));
    assertEquals(1f, rounded(Math.nextDown(1f + 0x1p-8f)));
  }

  @Test
  void shouldRoundNegativeNumbersSymmetrically() {
    assertEquals(-1f, rounded(-(1f + 0x1p-8f)));
    assertEquals(-(1f + 0x1p-6f), rounded(-(1f + 0x1p-7f + 0x1p-8f)));
    assertEquals(-(1f + 0x1p-7f), rounded(Math.nextDown(-(1f + 0x1p-8f))));
    assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(rounded(-0f)));
  }

  @Test
  void shouldLeaveNanAsNanAndInfinityAsInfinity() {
    for (int bits : new int[] {0x7FC00000, 0x7F800001, 0xFF800001, 0x7FFFFFFF, 0xFFC00000}) {
      float nan = Float.intBitsToFloat(bits);
      float r = rounded(nan);
      assertTrue(Float.isNaN(r), "NaN 0x" + Integer.toHexString(bits) + " became " + r);
      assertEquals(bits < 0, Float.floatToRawIntBits(r) < 0, "sign of NaN kept");
    }
    assertEquals(Float.POSITIVE_INFINITY, rounded(Float.POSITIVE_INFINITY));
    assertEquals(Float.NEGATIVE_INFINITY, rounded(Float.NEGATIVE_INFINITY));
    assertEquals(Float.POSITIVE_INFINITY, rounded(Float.MAX_VALUE), "past the largest bf16 rounds to infinity");
  }

  @Test
  void shouldMatchTheOracleRoundingOnEveryNonNanFloatSampled() {
    // The oracle: ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16, in 64-bit unsigned arithmetic.
    java.util.SplittableRandom rnd = new java.util.SplittableRandom(7);
    for (int i = 0; i < 200_000; i++) {
      int bits = rnd.nextInt();
      if (Float.isNaN(Float.intBitsToFloat(bits))) {
        continue;
      }
      long b = bits & 0xFFFFFFFFL;
      int want = (int) ((((b + 0x7FFF + ((b >> 16) & 1)) >> 16) << 16) & 0xFFFFFFFFL);
      assertEquals(want, Bf16.round(Float.intBitsToFloat(bits)) << 16, "bits 0x" + Integer.toHexString(bits));
    }
  }
}

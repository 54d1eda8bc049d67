package io.vitfleet.paramstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class Bf16MomentumTest {
  private static final int B = Bf16Momentum.BLOCK;

  @Test
  void shouldKeepTwoValuesPerIntInBlocks() {
    assertEquals(0, Bf16Momentum.allocate(0).length);
    assertEquals(1, Bf16Momentum.allocate(1)[0].length);
    int[][] blocks = Bf16Momentum.allocate(2 * B + 3);
    assertEquals(3, blocks.length);
    assertEquals(B / 2, blocks[1].length);
    assertEquals(2, blocks[2].length);
  }

  @Test
  void shouldReadBackEveryElementSetWhateverTheTensorLength() {
    for (int size : new int[] {1, 2, 7, B - 1, B, B + 1, 3 * B + 5}) {
      int[][] blocks = Bf16Momentum.allocate(size);
      short[] want = new short[size];
      SplittableRandom rnd = new SplittableRandom(size);
      for (int i = 0; i < size; i++) {
        want[i] = (short) rnd.nextInt();
        Bf16Momentum.set(blocks, size, i, want[i]);
      }
      for (int i = 0; i < size; i++) {
        assertEquals(want[i], Bf16Momentum.get(blocks, size, i), "size " + size + " element " + i);
      }
      // Block-wise conversions agree with element access.
      short[] block = new short[B];
      for (int b = 0; b < blocks.length; b++) {
        int n = Bf16Momentum.blockLength(size, b);
        Bf16Momentum.blockToBf16(blocks[b], n, block);
        for (int k = 0; k < n; k++) {
          assertEquals(want[b * B + k], block[k]);
        }
        int[] again = new int[blocks[b].length];
        Bf16Momentum.blockFromBf16(block, n, again);
        assertArrayEquals(blocks[b], again);
      }
    }
  }

  @Test
  void shouldUnpackToTheBf16ValueAndPackTheRoundedM32() {
    Bf16Momentum mom = new Bf16Momentum();
    for (int len : new int[] {1, 5, 64, B}) {
      float[] m32 = new float[len];
      SplittableRandom rnd = new SplittableRandom(len);
      for (int k = 0; k < len; k++) {
        m32[k] = (float) rnd.nextGaussian();
      }
      m32[0] = Float.NaN;
      int[][] blocks = Bf16Momentum.allocate(len);
      mom.pack(m32, len, blocks[0]);
      float[] back = new float[len];
      mom.unpack(blocks[0], len, back);
      float[] want = new float[len];
      for (int k = 0; k < len; k++) {
        want[k] = Bf16.toFloat(Bf16.round(m32[k]));
        assertEquals(Bf16.round(m32[k]), Bf16Momentum.get(blocks, len, k));
      }
      assertArrayEquals(want, back, "length " + len);
    }
  }

  @Test
  void shouldMixInTheOraclesOrder() {
    assertEquals(0.9f * 0.5f + 0.1f * 3f, Bf16Momentum.mix(0.5f, 3f, 0.9f, 0.1f));
  }
}

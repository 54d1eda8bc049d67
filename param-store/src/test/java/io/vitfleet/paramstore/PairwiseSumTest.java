package io.vitfleet.paramstore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The vector sums give the bits of numpy's pairwise sum written element by element ({@link ScalarChain}). */
class PairwiseSumTest {

  /** Values over many magnitudes and both signs, so that any other order of additions rounds differently. */
  private static float[] values(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) ((r.nextDouble() - 0.3) * Math.pow(10, r.nextInt(-6, 7)));
    }
    return a;
  }

  @Test
  void shouldSumEveryLengthAndOffsetAsNumpyDoes() {
    float[] a = values(5000, 1);
    for (int n = 0; n <= 700; n++) {
      for (int off = 0; off < 4; off++) {
        assertEquals(ScalarChain.pairwise(a, off, n), PairwiseSum.sum(a, off, n), "sum of " + n + " at " + off);
        assertEquals(ScalarChain.pairwiseSquares(a, off, n), PairwiseSum.sumOfSquares(a, off, n),
            "sum of squares of " + n + " at " + off);
      }
    }
    for (int n : new int[] {768, 3072, 4096, 4099, 4999}) {
      assertEquals(ScalarChain.pairwise(a, 1, n - 1), PairwiseSum.sum(a, 1, n - 1), "sum of " + n);
      assertEquals(ScalarChain.pairwiseSquares(a, 0, n), PairwiseSum.sumOfSquares(a, 0, n), "squares of " + n);
    }
  }

  @Test
  void shouldSumSquaresOfABlockAlikeWithOrWithoutWideVectors() {
    float[] a = values(200, 4);
    for (int n = 0; n <= PairwiseSum.BLOCK; n++) {
      assertEquals(ScalarChain.pairwiseSquares(a, 3, n), PairwiseSum.blockSumOfSquaresScalar(a, 3, n), "block of " + n);
    }
  }

  @Test
  void shouldSumClippedSquaresAsNumpyDoesAndAddEachToTheSumsOverP() {
    float[] g = values(3100, 2);
    for (int n : new int[] {0, 1, 7, 8, 9, 64, 127, 128, 129, 255, 768, 1001, 2999}) {
      float[] acc = values(3100, 3);
      float[] want = acc.clone();
      float[] squares = new float[n];
      for (int i = 0; i < n; i++) {
        float c = GlobalNormClip.apply(g[1 + i], 3.5f, 1f);
        squares[i] = c * c + 1e-30f;
        want[2 + i] += squares[i];
      }
      float sum = FactoredSecondMoment.clippedSquares(g, 1, acc, 2, n, 3.5f, 1f, 1e-30f, new PairwiseSum.Walk());
      assertEquals(ScalarChain.pairwise(squares, 0, n), sum, "clipped squares of " + n);
      AdafactorScalarChainTest.assertBits(want, acc, "sums over p after " + n);
    }
  }
}

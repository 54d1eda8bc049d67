package io.vitfleet.paramstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The links of the chain, one at a time. */
class ChainLinksTest {

  @Test
  void shouldClipByDividingByTheNormThenMultiplyingByTheThreshold() {
    // 0.3f / 3 * 2 and 0.3f * (2 / 3) round differently (0.2 vs 0.20000002); the oracle divides first.
    float g = 0.3f;
    assertEquals((g / 3f) * 2f, GlobalNormClip.apply(g, 3f, 2f));
    assertNotEquals(g * (2f / 3f), GlobalNormClip.apply(g, 3f, 2f));
    assertTrue(GlobalNormClip.clips(1.0, 1.0), "a norm equal to the threshold is clipped");
    assertFalse(GlobalNormClip.clips(Math.nextDown(1.0), 1.0));
  }

  @Test
  void shouldLeaveGradientsUnchangedWhenTheStepIsNotClipped() {
    StepFactors f = StepFactors.of(OptimizerConfig.defaults(Schedule.constant(10, 0, 0)), 3, 0.5);
    assertFalse(f.clip());
    for (float g : new float[] {0f, -0f, 1e-40f, -3.5f, Float.MAX_VALUE, Float.MIN_VALUE}) {
      assertEquals(Float.floatToRawIntBits(g), Float.floatToRawIntBits(GlobalNormClip.apply(g, f.clipDivisor(),
          f.clipFactor())));
    }
  }

  @Test
  void shouldUpdateTheFullSecondMomentAndScaleByItsInverseRoot() {
    float v = UnfactoredSecondMoment.decay(4f, 2f, 0.5f, 0.5f, 0f);
    assertEquals(4f, v);
    assertEquals(1f, UnfactoredSecondMoment.scale(2f, v));
    assertEquals(0.5f * 4f + 0.5f * (2f * 2f + 1e-30f), UnfactoredSecondMoment.decay(4f, 2f, 0.5f, 0.5f, 1e-30f));
  }

  @Test
  void shouldRoundTheInverseRootCorrectly() {
    for (float x : new float[] {1f, 2f, 3f, 1e-30f, 7.123e-12f, 12345.678f}) {
      assertEquals((float) (1 / Math.sqrt(x)), FactoredSecondMoment.rsqrt(x));
    }
    assertEquals(Float.POSITIVE_INFINITY, FactoredSecondMoment.rsqrt(0f));
  }

  @Test
  void shouldStepWithLearningRateDecayAndScheduleInTheOraclesOrder() {
    float p = 0.3f;
    float m = -0.02f;
    assertEquals(p - 0.5f * (1e-3f * m + 3e-5f * p), ScheduledStep.apply(p, m, 1e-3f, 3e-5f, 0.5f));
    assertEquals(p, ScheduledStep.apply(p, m, 1e-3f, 3e-5f, 0f), "schedule 0 (first warmup step) leaves it");
  }

  @Test
  void shouldSumAsNumpyDoes() {
    // Fewer than 8: left to right from 0.
    float[] a = {1e8f, 1f, -1e8f, 1f};
    assertEquals(((1e8f + 1f) + -1e8f) + 1f, PairwiseSum.sum(a, 0, 4));
    // 8 to 128: eight interleaved partial sums combined as a tree, then the remainder.
    float[] b = new float[11];
    for (int i = 0; i < b.length; i++) {
      b[i] = (i % 3 == 0 ? 1e7f : 0.7f) * (i + 1);
    }
    float res = ((b[0] + b[1]) + (b[2] + b[3])) + ((b[4] + b[5]) + (b[6] + b[7]));
    res = res + b[8] + b[9] + b[10];
    assertEquals(res, PairwiseSum.sum(b, 0, 11));
    // Above 128: halves rounded down to a multiple of 8, summed separately.
    float[] c = new float[300];
    for (int i = 0; i < c.length; i++) {
      c[i] = (float) Math.sin(i) * (1 + i % 17) * 1e3f;
    }
    assertEquals(PairwiseSum.sum(c, 0, 144) + PairwiseSum.sum(c, 144, 156), PairwiseSum.sum(c, 0, 300));
    assertEquals(PairwiseSum.sum(c, 144, 72) + PairwiseSum.sum(c, 216, 84), PairwiseSum.sum(c, 144, 156));
  }

  @Test
  void shouldMeanOverAContiguousAxisPairwiseAndOverAStridedAxisInOrder() {
    float[] src = new float[2 * 20 * 3];
    for (int i = 0; i < src.length; i++) {
      src[i] = (float) Math.cos(i) * 1e4f;
    }
    float[] strided = new float[6];
    FactoredSecondMoment.meanOverMiddle(src, 2, 20, 3, strided, new PairwiseSum.Walk());
    for (int x = 0; x < 2; x++) {
      for (int y = 0; y < 3; y++) {
        float s = 0f;
        for (int n = 0; n < 20; n++) {
          s += src[(x * 20 + n) * 3 + y];
        }
        assertEquals(s / 20f, strided[x * 3 + y]);
      }
    }
    float[] contiguous = new float[6];
    FactoredSecondMoment.meanOverMiddle(src, 6, 20, 1, contiguous, new PairwiseSum.Walk());
    for (int x = 0; x < 6; x++) {
      assertEquals(PairwiseSum.sum(src, x * 20, 20) / 20f, contiguous[x]);
    }
  }
}

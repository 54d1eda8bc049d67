package io.vitfleet.paramstore;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The vector kernels of the update against the scalar links, lane for lane and bit for bit. */
class FusedUpdateTest {
  private static final StepFactors STEP = new StepFactors(7, true, 1.7f, 1f, 0.9f, 0.1f, 1e-30f, 0.9f, 0.1f, 1e-3f,
      0.75f);

  /** Momentum 0: m32 is u itself, so the special values of u below reach the bfloat16 rounding unchanged. */
  private static final StepFactors NO_MOMENTUM = new StepFactors(7, false, 1f, 1f, 0.9f, 0.1f, 1e-30f, 0f, 1f, 1e-3f,
      1f);
  /** Rounding midpoints (to even: down, up), just above one, subnormals, signalling and quiet NaNs, infinity. */
  private static final int[] SPECIAL_U = {0x3F808000, 0x3F818000, 0x3F808001, 0x00008000, 0x80018000, 0x7F800001,
      0xFFC00000, 0x7F800000, 0x7F7FFFFF, 0x80000000};

  @Test
  void shouldStepMomentumAndParametersAsTheScalarLinksAtAnyBlockLength() {
    SplittableRandom r = new SplittableRandom(5);
    for (StepFactors f : new StepFactors[] {STEP, NO_MOMENTUM}) {
      for (int len : lengths()) {
        int off = len % 3;
        int h = (len + 1) / 2;
        float[] u = new float[len];
        float[] p = new float[len + off];
        short[] m = new short[len];
        for (int i = 0; i < len; i++) {
          u[i] = r.nextInt(3) == 0 ? Float.intBitsToFloat(SPECIAL_U[r.nextInt(SPECIAL_U.length)])
              : (float) r.nextGaussian();
          p[off + i] = (float) r.nextGaussian();
          m[i] = special(r);
        }
        int[][] block = Bf16Momentum.allocate(len);
        float[] uIn = u.clone();
        float[] wantP = p.clone();
        short[] wantM = new short[len];
        float decay = 3e-5f;
        for (int i = 0; i < len; i++) {
          Bf16Momentum.set(block, len, i, m[i]);
          float m32 = Bf16Momentum.mix(Bf16.toFloat(m[i]), u[i], f.momentum(), f.oneMinusMomentum());
          wantM[i] = Bf16.round(m32);
          wantP[off + i] = ScheduledStep.apply(p[off + i], m32, f.lr(), decay, f.schedule());
        }
        if (len > 0) {
          FusedUpdate.momentumAndStep(u, p, off, block[0], len, new int[h], new int[h], f, decay);
        }
        String where = len + " elements, momentum " + f.momentum();
        for (int i = 0; i < len; i++) {
          assertSameBf16(wantM[i], Bf16Momentum.get(block, len, i), "momentum " + i + " of " + where);
        }
        if (len % 2 == 1) {
          assertEquals(0, block[0][h - 1] >>> 16, "the unused half of an odd block stays zero, " + where);
        }
        for (int i = 0; i < len + off; i++) {
          assertSameFloat(wantP[i], p[i], "param " + i + " of " + where);
        }
        for (int i = 0; i < len; i++) {
          float m32 = Bf16Momentum.mix(Bf16.toFloat(m[i]), uIn[i], f.momentum(), f.oneMinusMomentum());
          assertSameFloat(m32, u[i], "m32 " + i + " of " + where);
        }
      }
    }
  }

  /** Every block length up to a few vectors of pairs, then some longer ones up to a whole block. */
  private static int[] lengths() {
    int[] out = new int[80 + 4];
    for (int i = 0; i < 80; i++) {
      out[i] = i;
    }
    out[80] = 1001;
    out[81] = 2048;
    out[82] = Bf16Momentum.BLOCK - 1;
    out[83] = Bf16Momentum.BLOCK;
    return out;
  }

  @Test
  void shouldScaleByTheFactorsInTheOraclesOrderAtAnyLength() {
    SplittableRandom r = new SplittableRandom(6);
    for (int n = 0; n <= 40; n++) {
      float[] g = gaussians(r, n + 2);
      float[] row = gaussians(r, n + 1);
      float[] col = gaussians(r, n + 3);
      float rowOne = 1.3f;
      float colOne = 0.7f;
      float[] got = new float[n + 1];
      FusedUpdate.scaleByRowsAndCol(g, 2, row, 1, colOne, got, 1, n, STEP);
      for (int i = 0; i < n; i++) {
        assertEquals((clip(g[2 + i]) * row[1 + i]) * colOne, got[1 + i], "rows and one col, " + i + " of " + n);
      }
      FusedUpdate.scaleByRowAndCols(g, 2, rowOne, col, 3, got, 1, n, STEP);
      for (int i = 0; i < n; i++) {
        assertEquals((clip(g[2 + i]) * rowOne) * col[3 + i], got[1 + i], "one row and cols, " + i + " of " + n);
      }
      FusedUpdate.scaleByRowsAndCols(g, 2, row, 1, col, 3, got, 1, n, STEP);
      for (int i = 0; i < n; i++) {
        assertEquals((clip(g[2 + i]) * row[1 + i]) * col[3 + i], got[1 + i], "rows and cols, " + i + " of " + n);
      }
    }
  }

  /**
   * The same bits, or both NaN: which NaN an operation on a NaN returns (sign, payload) is the CPU's choice, which
   * Java leaves open, and a vector instruction may take its operands in the other order than a scalar one. NaNs never
   * reach an update (a NaN or infinite gradient makes the global norm non-finite, and the step is refused).
   */
  private static void assertSameFloat(float want, float got, String where) {
    if (!(Float.isNaN(want) && Float.isNaN(got))) {
      assertEquals(Float.floatToRawIntBits(want), Float.floatToRawIntBits(got), where);
    }
  }

  private static void assertSameBf16(short want, short got, String where) {
    assertSameFloat(Bf16.toFloat(want), Bf16.toFloat(got), where);
  }

  private static float clip(float g) {
    return GlobalNormClip.apply(g, STEP.clipDivisor(), STEP.clipFactor());
  }

  private static float[] gaussians(SplittableRandom r, int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = (float) r.nextGaussian();
    }
    return a;
  }

  /** A bfloat16: an ordinary value mostly, sometimes a zero of either sign, an infinity, a NaN or a subnormal. */
  private static short special(SplittableRandom r) {
    short[] odd = {0x0000, (short) 0x8000, 0x7F80, (short) 0xFF80, 0x7FC1, (short) 0xFF81, 0x0001, (short) 0x807F};
    return r.nextInt(4) == 0 ? odd[r.nextInt(odd.length)] : Bf16.round((float) r.nextGaussian());
  }
}

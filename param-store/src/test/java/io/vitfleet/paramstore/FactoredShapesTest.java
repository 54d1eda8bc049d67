package io.vitfleet.paramstore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import io.vitfleet.protocol.SecondMomentLayout;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;


/**
 * The factored update on shapes the oracle does not cover (axes before, between and after the factored pair, d0
 * before or after d1), against a textbook implementation written with full multi-indices and double arithmetic.
 * Tolerances: second moments 1e-5 relative (float32 vs double sums); momentum within one bf16 ulp plus 2^-8 of the
 * tensor's largest |m| (a flipped bf16 rounding carries into the next step's m32, which matters only near zero);
 * parameters 1e-6 relative plus lr * 1e-2 absolute per step (a flipped bf16 momentum moves a parameter by
 * lr * s * ulp(m)). A wrong index mapping would miss all of these by orders of magnitude.
 */
class FactoredShapesTest {
  private static final Schedule SCHEDULE = Schedule.rsqrt(100, 1, 0, 10);

  @Test
  void shouldMatchATextbookImplementationOnFiveDimensionalTensors() {
    check(new int[] {3, 40, 2, 36, 5});
    check(new int[] {3, 36, 2, 40, 5});
  }

  @Test
  void shouldMatchATextbookImplementationOnMatricesOfEitherOrientation() {
    check(new int[] {50, 33});
    check(new int[] {33, 50});
    check(new int[] {300, 300});
  }

  private static void check(int[] shape) {
    ParameterManifest manifest = new ParameterManifest(List.of(new ParameterSpec("x/kernel", shape)));
    OptimizerConfig config = OptimizerConfig.defaults(SCHEDULE);
    Adafactor opt = new Adafactor(config, manifest);
    OptimizerState state = opt.newState();
    assertTrue(state.layout(0).factored());
    int n = (int) manifest.totalSize();
    SplittableRandom rnd = new SplittableRandom(shape.length * 1000L + shape[0]);
    float[] params = new float[n];
    for (int i = 0; i < n; i++) {
      params[i] = (float) (rnd.nextDouble() - 0.5);
    }
    Textbook ref = new Textbook(shape, params.clone());
    for (int step = 0; step < 3; step++) {
      float[] g = new float[n];
      for (int i = 0; i < n; i++) {
        g[i] = (float) ((rnd.nextDouble() - 0.5) * (step % 2 == 0 ? 1e-3 : 1.0) * (1 + i % 7));
      }
      double norm = Math.sqrt(opt.squaredNorm(g));
      opt.update(params, g, state, step, norm);
      ref.step(g, norm, step, config);
      String where = java.util.Arrays.toString(shape) + " step " + step;
      close(ref.vRow, state.secondMomentRows(0), 1e-5, 0, where + " v_row");
      close(ref.vCol, state.secondMomentCols(0), 1e-5, 0, where + " v_col");
      close(ref.params, params, 1e-6, config.lr() * 1e-2 * (step + 1), where + " param");
      float maxM = 0;
      for (int i = 0; i < n; i++) {
        maxM = Math.max(maxM, Math.abs(Bf16.toFloat(ref.m[i])));
      }
      for (int i = 0; i < n; i++) {
        float got = state.momentum(0, i);
        float want = Bf16.toFloat(ref.m[i]);
        if (!(Math.abs(got - want) <= 0x1p-7 * Math.max(Math.abs(got), Math.abs(want)) + 0x1p-8 * maxM)) {
          fail(where + " m[" + i + "]: " + got + " vs " + want);
        }
      }
    }
  }

  private static void close(float[] want, float[] got, double rel, double abs, String where) {
    assertEquals(want.length, got.length, where);
    for (int i = 0; i < want.length; i++) {
      if (!(Math.abs(got[i] - want[i]) <= rel * Math.abs(want[i]) + abs)) {
        fail(where + "[" + i + "]: got " + got[i] + ", textbook " + want[i]);
      }
    }
  }

  /** The spec's factored update, element by element over full multi-indices, in double. */
  private static final class Textbook {
    final int[] shape;
    final int d0;
    final int d1;
    final float[] params;
    final short[] m;
    final float[] vRow;
    final float[] vCol;

    Textbook(int[] shape, float[] params) {
      this.shape = shape;
      SecondMomentLayout l = SecondMomentLayout.of(shape, 32);
      this.d0 = l.d0();
      this.d1 = l.d1();
      this.params = params;
      this.m = new short[params.length];
      this.vRow = new float[l.rowSize()];
      this.vCol = new float[l.colSize()];
    }

    /** Row-major index of {@code idx} with the axes in {@code skip} removed. */
    private int flatWithout(int[] idx, int skipA, int skipB) {
      int f = 0;
      for (int a = 0; a < shape.length; a++) {
        if (a != skipA && a != skipB) {
          f = f * shape[a] + idx[a];
        }
      }
      return f;
    }

    private static void next(int[] idx, int[] shape) {
      for (int a = shape.length - 1; a >= 0; a--) {
        if (++idx[a] < shape[a]) {
          return;
        }
        idx[a] = 0;
      }
    }

    void step(float[] g, double norm, long count, OptimizerConfig c) {
      int n = params.length;
      double[] gc = new double[n];
      for (int i = 0; i < n; i++) {
        gc[i] = norm >= c.clipNorm() ? g[i] / norm * c.clipNorm() : g[i];
      }
      double b2 = Math.min(c.beta2Cap(), 1 - Math.pow(count + 1, -c.decayRate()));
      double[] rowSum = new double[vRow.length];
      double[] colSum = new double[vCol.length];
      int[] idx = new int[shape.length];
      for (int i = 0; i < n; i++, next(idx, shape)) {
        double g2 = gc[i] * gc[i] + c.eps();
        rowSum[flatWithout(idx, d0, -1)] += g2;
        colSum[flatWithout(idx, d1, -1)] += g2;
      }
      for (int i = 0; i < vRow.length; i++) {
        vRow[i] = (float) (b2 * vRow[i] + (1 - b2) * rowSum[i] / shape[d0]);
      }
      for (int i = 0; i < vCol.length; i++) {
        vCol[i] = (float) (b2 * vCol[i] + (1 - b2) * colSum[i] / shape[d1]);
      }
      // mean of v_row over d1, indexed by the tensor without d0 and d1.
      double[] rowMean = new double[n / shape[d0] / shape[d1]];
      idx = new int[shape.length];
      for (int i = 0; i < n; i++, next(idx, shape)) {
        if (idx[d0] == 0) {
          rowMean[flatWithout(idx, d0, d1)] += vRow[flatWithout(idx, d0, -1)] / (double) shape[d1];
        }
      }
      double s = c.schedule().value(count);
      double wd = c.wd() * c.rules().multiplier("x/kernel");
      idx = new int[shape.length];
      for (int i = 0; i < n; i++, next(idx, shape)) {
        double r = vRow[flatWithout(idx, d0, -1)] / rowMean[flatWithout(idx, d0, d1)];
        double u = gc[i] / Math.sqrt(r) / Math.sqrt(vCol[flatWithout(idx, d1, -1)]);
        double m32 = c.momentum() * Bf16.toFloat(m[i]) + (1 - c.momentum()) * u;
        m[i] = Bf16.round((float) m32);
        params[i] = (float) (params[i] - s * (c.lr() * m32 + wd * params[i]));
      }
    }
  }
}

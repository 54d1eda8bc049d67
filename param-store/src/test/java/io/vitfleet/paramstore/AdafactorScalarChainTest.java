package io.vitfleet.paramstore;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The vectorised optimizer against {@link ScalarChain}, bit for bit, on every kind of layout: axes before, between
 * and after the factored pair, d0 before or after d1, runs shorter and longer than a momentum block, tensors whose
 * length is no multiple of the vector lanes, unfactored tensors across block ends; clipped and unclipped steps.
 */
class AdafactorScalarChainTest {

  static ParameterManifest layouts() {
    return new ParameterManifest(List.of(
        new ParameterSpec("five/kernel", new int[] {3, 40, 2, 36, 5}),
        new ParameterSpec("five_swapped/kernel", new int[] {3, 36, 2, 40, 5}),
        new ParameterSpec("tall/kernel", new int[] {50, 33}),
        new ParameterSpec("wide/kernel", new int[] {33, 50}),
        new ParameterSpec("query/kernel", new int[] {64, 12, 48}),
        new ParameterSpec("out/kernel", new int[] {12, 48, 70}),
        new ParameterSpec("long_runs/kernel", new int[] {33, Bf16Momentum.BLOCK + 3}),
        new ParameterSpec("short_runs/kernel", new int[] {Bf16Momentum.BLOCK / 4 + 4, 33}),
        new ParameterSpec("pos_embedding", new int[] {1, 37, 40}),
        new ParameterSpec("head/kernel", new int[] {40, 10}),
        new ParameterSpec("wide/bias", new int[] {Bf16Momentum.BLOCK + 1}),
        new ParameterSpec("norm/scale", new int[] {7})));
  }

  @Test
  void shouldGiveTheScalarChainsBitsOnEveryLayoutAndThreadCount() {
    ParameterManifest m = layouts();
    OptimizerConfig config = OptimizerConfig.defaults(Schedule.rsqrt(100, 1, 0, 10));
    for (int threads = 1; threads <= 2; threads++) {
      Adafactor opt = new Adafactor(config, m, threads);
      OptimizerState state = opt.newState();
      ScalarChain scalar = new ScalarChain(config, m);
      float[] params = AdafactorThreadsTest.random(m.totalSize(), 1, 0.5);
      float[] want = params.clone();
      for (int step = 0; step < 5; step++) {
        float[] g = AdafactorThreadsTest.random(m.totalSize(), 10 + step, step % 2 == 0 ? 1e-3 : 1.0);
        for (int i = 0; i < g.length; i += 97) {
          g[i] = 0f;
        }
        double norm = opt.step(params, g, state, step);
        double squares = 0;
        for (int t = 0; t < m.count(); t++) {
          squares += ScalarChain.pairwiseSquares(g, (int) m.offset(t), (int) m.get(t).size());
        }
        assertEquals(Math.sqrt(squares), norm, "global norm of step " + step);
        scalar.update(want, g, step, norm);
        String where = threads + " thread(s), step " + step + " (norm " + norm + ")";
        assertBits(want, params, where + ", params");
        for (int t = 0; t < m.count(); t++) {
          String tensor = where + ", " + m.get(t).name();
          assertArrayEquals(scalar.m[t], state.momentumBf16(t), tensor + ", momentum");
          if (state.layout(t).factored()) {
            assertBits(scalar.vRow[t], state.secondMomentRows(t), tensor + ", v_row");
            assertBits(scalar.vCol[t], state.secondMomentCols(t), tensor + ", v_col");
          } else {
            assertBits(scalar.v[t], state.secondMoment(t), tensor + ", v");
          }
        }
      }
    }
  }

  @Test
  void shouldTakeEachTensorsSquaredNormInNumpysOrder() {
    ParameterManifest m = layouts();
    Adafactor opt = new Adafactor(OptimizerConfig.defaults(Schedule.rsqrt(100, 1, 0, 10)), m);
    float[] g = AdafactorThreadsTest.random(m.totalSize(), 3, 1.0);
    double[] got = opt.squaredNorms(FlatFloats.wrap(m, g));
    for (int t = 0; t < m.count(); t++) {
      assertEquals(ScalarChain.pairwiseSquares(g, (int) m.offset(t), (int) m.get(t).size()), got[t],
          m.get(t).name());
    }
  }

  static void assertBits(float[] want, float[] got, String where) {
    assertEquals(want.length, got.length, where);
    for (int i = 0; i < want.length; i++) {
      if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
        fail(where + "[" + i + "]: got " + got[i] + ", the scalar chain " + want[i]);
      }
    }
  }
}

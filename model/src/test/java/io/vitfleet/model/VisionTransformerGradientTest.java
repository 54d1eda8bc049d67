package io.vitfleet.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The graph's gradients are the derivatives of what it computes: central finite differences in float64 on a tiny ViT,
 * for sampled elements of every parameter tensor and of the input activation.
 */
class VisionTransformerGradientTest {
  /** Relative error allowed between the analytic gradient and central differences (float64, step {@link #H}). */
  private static final double TOLERANCE = 1e-5;
  private static final double H = 1e-4;
  /**
   * Gradients smaller than this are compared absolutely, not relatively: the key bias has a zero gradient in exact
   * arithmetic (softmax ignores a constant added to every score), where central differences return rounding noise.
   */
  private static final double FLOOR = 1e-5;
  private static final int SAMPLES_PER_TENSOR = 3;
  private static final int BATCH = 3;

  static ViTConfig tiny(int depth, HeadType head, LossType loss) {
    return new ViTConfig(new Variant("tiny", 8, depth, 16, 2), 2, 4, 3, 3, head, loss);
  }

  @ParameterizedTest
  @EnumSource(HeadType.class)
  void wholeModelGradientsMatchFiniteDifferencesForEveryHead(HeadType head) {
    checkStage(tiny(2, head, LossType.SOFTMAX), 0, 2, 11);
  }

  @Test
  void wholeModelGradientsMatchFiniteDifferencesWithTheSigmoidLoss() {
    checkStage(tiny(2, HeadType.MAP, LossType.SIGMOID), 0, 2, 12);
  }

  @Test
  void middleStageWeightAndInputGradientsMatchFiniteDifferences() {
    checkStage(tiny(3, HeadType.MAP, LossType.SOFTMAX), 1, 2, 13);
  }

  @Test
  void firstStageGradientsUnderAnIncomingActivationGradientMatchFiniteDifferences() {
    checkStage(tiny(3, HeadType.TOKEN, LossType.SOFTMAX), 0, 1, 14);
  }

  @ParameterizedTest
  @EnumSource(HeadType.class)
  void lastStageInputGradientMatchesFiniteDifferences(HeadType head) {
    checkStage(tiny(3, head, LossType.SOFTMAX), 2, 3, 15);
  }

  @Test
  void lossIsTheMeanCrossEntropyWhenScaledByTheBatchSize() {
    // Zero head kernel and bias: uniform softmax, so each example's loss is log(classes).
    ViTConfig c = tiny(2, HeadType.GAP, LossType.SOFTMAX);
    try (StageGraph g = StageGraph.training64(c, 0, 2, BATCH, 1)) {
      double[] params = toDouble(ViTParameters.initialise(c, g.manifest(), 1));
      SplittableRandom rnd = new SplittableRandom(2);
      StageResult64 r = g.forwardBackward(params, gaussian(rnd, g.inputSize(BATCH), 1), new int[] {0, 1, 2}, null,
          BATCH, new double[params.length]);
      assertEquals(Math.log(3), r.loss(), 1e-12);
    }
  }

  // ---------------------------------------------------------------------------------------------------------------

  /**
   * Checks the weight gradients (sampled elements of every tensor) and, for a non-first stage, the input gradient of
   * stage [first, end) against central differences of its objective: the loss on the last stage, the dot product of
   * its output with a fixed random output gradient otherwise.
   */
  private static void checkStage(ViTConfig c, int first, int end, long seed) {
    SplittableRandom rnd = new SplittableRandom(seed);
    try (StageGraph g = StageGraph.training64(c, first, end, BATCH, 1)) {
      ParameterManifest m = g.manifest();
      double[] params = toDouble(ViTParameters.initialise(c, m, seed));
      // Random noise on every parameter (zero-initialised head kernel, biases and [class] token included), so that
      // gradients reach every tensor and a transposed bias or kernel cannot hide behind zeros or ones.
      for (int i = 0; i < params.length; i++) {
        params[i] += 0.2 * gaussian(rnd);
      }
      double[] input = gaussian(rnd, g.inputSize(BATCH), 1);
      int[] labels = new int[BATCH];
      for (int i = 0; i < BATCH; i++) {
        labels[i] = rnd.nextInt(c.classes());
      }
      double[] dy = g.isLast() ? null : gaussian(rnd, g.activationSize(BATCH), 1);
      Objective f = (p, x) -> {
        StageResult64 r = g.forwardBackward(p, x, labels, dy, BATCH, new double[p.length]);
        return g.isLast() ? r.loss() : dot(r.output(), dy);
      };

      double[] grad = new double[params.length];
      StageResult64 r = g.forwardBackward(params, input, labels, dy, BATCH, grad);

      List<String> failures = new ArrayList<>();
      int checked = 0;
      for (int t = 0; t < m.count(); t++) {
        ParameterSpec s = m.get(t);
        int offset = (int) m.offset(t);
        boolean nonZero = false;
        for (int k = 0; k < s.size(); k++) {
          nonZero |= grad[offset + k] != 0;
        }
        if (s.name().endsWith("attention/key/bias")) {
          // Zero in exact arithmetic: q.(k + b) shifts every score of a query by the same q.b.
          for (int k = 0; k < s.size(); k++) {
            if (Math.abs(grad[offset + k]) > 1e-12) {
              failures.add(s.name() + "[" + k + "]: gradient " + grad[offset + k] + " should vanish");
            }
          }
        } else if (!nonZero) {
          failures.add(s.name() + ": gradient is zero everywhere");
        }
        for (int k = 0; k < Math.min(SAMPLES_PER_TENSOR, s.size()); k++) {
          int i = offset + rnd.nextInt((int) s.size());
          double fd = centralDifference(p -> f.value(p, input), params, i);
          compare(s.name() + "[" + (i - offset) + "]", grad[i], fd, failures);
          checked++;
        }
      }
      if (!g.isFirst()) {
        for (int k = 0; k < 2 * SAMPLES_PER_TENSOR; k++) {
          int i = rnd.nextInt(input.length);
          double fd = centralDifference(x -> f.value(params, x), input, i);
          compare("input[" + i + "]", r.inputGrad()[i], fd, failures);
          checked++;
        }
      } else {
        assertEquals(null, r.inputGrad(), "a first stage has no input gradient");
      }
      assertTrue(failures.isEmpty(), c.describe() + " blocks [" + first + ", " + end + "): " + failures.size()
          + " of " + checked + " checks failed:\n" + String.join("\n", failures));
    }
  }

  private interface Objective {
    double value(double[] params, double[] input);
  }

  private interface Function {
    double value(double[] x);
  }

  private static double centralDifference(Function f, double[] x, int i) {
    double saved = x[i];
    x[i] = saved + H;
    double plus = f.value(x);
    x[i] = saved - H;
    double minus = f.value(x);
    x[i] = saved;
    return (plus - minus) / (2 * H);
  }

  private static void compare(String what, double analytic, double numeric, List<String> failures) {
    double err = Math.abs(analytic - numeric) / Math.max(FLOOR, Math.max(Math.abs(analytic), Math.abs(numeric)));
    if (!(err < TOLERANCE)) {
      failures.add(String.format("%s: analytic %.10g, finite difference %.10g, relative error %.3g", what, analytic,
          numeric, err));
    }
  }

  static double[] toDouble(float[] a) {
    double[] d = new double[a.length];
    for (int i = 0; i < a.length; i++) {
      d[i] = a[i];
    }
    return d;
  }

  static double gaussian(SplittableRandom rnd) {
    return Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
  }

  static double[] gaussian(SplittableRandom rnd, int n, double std) {
    double[] a = new double[n];
    for (int i = 0; i < n; i++) {
      a[i] = std * gaussian(rnd);
    }
    return a;
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }
}

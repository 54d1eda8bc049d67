package io.vitfleet.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class FewShotEvaluatorTest {

  /** Examples of `classes` Gaussian clusters, `perClass` each, class k centred at `separation` along axis k. */
  private record Data(float[] features, int[] labels) {
  }

  private static Data clusters(int classes, int perClass, int dim, double separation, double noise, long seed) {
    Random rnd = new Random(seed);
    float[] f = new float[classes * perClass * dim];
    int[] labels = new int[classes * perClass];
    for (int i = 0; i < labels.length; i++) {
      int k = i % classes;
      labels[i] = k;
      for (int j = 0; j < dim; j++) {
        f[i * dim + j] = (float) ((j == k ? separation : 0) + noise * rnd.nextGaussian());
      }
    }
    return new Data(f, labels);
  }

  @Test
  void separableClustersAreClassifiedAlmostPerfectly() {
    Data train = clusters(5, 40, 16, 4.0, 1.0, 1);
    Data test = clusters(5, 40, 16, 4.0, 1.0, 2);
    double acc10 = FewShotEvaluator.evaluate(train.features(), train.labels(), test.features(), test.labels(), 16, 5,
        10, 0);
    assertTrue(acc10 >= 0.95, "10-shot accuracy " + acc10);
  }

  @Test
  void theSweepRunsEveryShotCountWithThreeSeeds() {
    Data train = clusters(4, 30, 8, 3.0, 1.0, 3);
    Data test = clusters(4, 25, 8, 3.0, 1.0, 4);
    FewShotEvaluator.Result r = FewShotEvaluator.evaluateAll(train.features(), train.labels(), test.features(),
        test.labels(), 8, 4);
    assertEquals(List.of(1, 5, 10, 25), r.rows().stream().map(FewShotEvaluator.ShotAccuracy::shots).toList());
    for (FewShotEvaluator.ShotAccuracy row : r.rows()) {
      assertEquals(3, row.perSeed().size());
      double mean = row.perSeed().stream().mapToDouble(Double::doubleValue).sum() / 3;
      assertEquals(mean, r.mean(row.shots()), 1e-12);
      assertEquals(FewShotEvaluator.evaluate(train.features(), train.labels(), test.features(), test.labels(), 8, 4,
          row.shots(), 1), row.perSeed().get(1));
    }
    assertTrue(r.mean(25) >= r.mean(1) - 0.05, "25-shot " + r.mean(25) + " vs 1-shot " + r.mean(1));
    assertThrows(IllegalArgumentException.class, () -> r.mean(2));
  }

  @Test
  void primalAndDualSolvesGiveTheSameWeights() {
    Random rnd = new Random(7);
    for (int[] nd : new int[][] {{30, 9}, {6, 20}}) {
      int n = nd[0];
      int d = nd[1];
      int c = 3;
      double[] x = new double[n * d];
      double[] y = new double[n * c];
      for (int i = 0; i < x.length; i++) {
        x[i] = rnd.nextGaussian();
      }
      for (int i = 0; i < n; i++) {
        x[i * d + d - 1] = 100;
        for (int k = 0; k < c; k++) {
          y[i * c + k] = i % c == k ? 1 : -1;
        }
      }
      double[] primal = FewShotEvaluator.ridgeWeights(x, n, d, y, c, 1024, FewShotEvaluator.Solver.PRIMAL);
      double[] dual = FewShotEvaluator.ridgeWeights(x, n, d, y, c, 1024, FewShotEvaluator.Solver.DUAL);
      double scale = Arrays.stream(primal).map(Math::abs).max().orElseThrow();
      for (int i = 0; i < primal.length; i++) {
        assertEquals(primal[i], dual[i], 1e-9 * scale, "n=" + n + " d=" + d + " weight " + i);
      }
    }
  }

  @Test
  void primalAndDualEvaluationsAgreeOnAccuracy() {
    Data train = clusters(3, 12, 10, 2.0, 1.0, 11);
    Data test = clusters(3, 30, 10, 2.0, 1.0, 12);
    for (int shots : new int[] {2, 5}) {
      double primal = FewShotEvaluator.evaluate(train.features(), train.labels(), test.features(), test.labels(), 10,
          3, shots, 5, FewShotEvaluator.Solver.PRIMAL);
      double dual = FewShotEvaluator.evaluate(train.features(), train.labels(), test.features(), test.labels(), 10, 3,
          shots, 5, FewShotEvaluator.Solver.DUAL);
      assertEquals(primal, dual, shots + " shots");
    }
  }

  @Test
  void aOneFeatureTwoClassCaseMatchesTheHandSolution() {
    // Standardised train features -s and s (s = 1 / (1 + 1e-5)), bias feature 100, targets (1, -1) and (-1, 1):
    // X^T X = diag(2 s^2, 20000), X^T Y = [[-2s, 2s], [0, 0]], so W = [[-2s, 2s] / (2 s^2 + 1024), [0, 0]].
    double s = 1 / (1 + 1e-5);
    double[] x = {-s, 100, s, 100};
    double[] y = {1, -1, -1, 1};
    double[] w = FewShotEvaluator.ridgeWeights(x, 2, 2, y, 2, 1024, FewShotEvaluator.Solver.AUTO);
    double expected = 2 * s / (2 * s * s + 1024);
    assertArrayEquals(new double[] {-expected, expected, 0, 0}, w, 1e-15);

    float[] train = {-1f, 1f};
    int[] trainLabels = {0, 1};
    float[] test = {-0.5f, 0.25f, 3f, -7f};
    assertEquals(1.0, FewShotEvaluator.evaluate(train, trainLabels, test, new int[] {0, 1, 1, 0}, 1, 2, 1, 0));
    assertEquals(0.25, FewShotEvaluator.evaluate(train, trainLabels, test, new int[] {1, 1, 0, 1}, 1, 2, 1, 0));
  }

  @Test
  void theChoiceOfExamplesIsDeterministicPerSeedAndBalanced() {
    int[] labels = new int[100];
    for (int i = 0; i < labels.length; i++) {
      labels[i] = i % 4;
    }
    int[] a = FewShotEvaluator.select(labels, 4, 5, 42);
    assertArrayEquals(a, FewShotEvaluator.select(labels, 4, 5, 42));
    assertFalse(Arrays.equals(a, FewShotEvaluator.select(labels, 4, 5, 43)));
    assertEquals(20, a.length);
    assertEquals(20, Arrays.stream(a).distinct().count());
    for (int i = 0; i < a.length; i++) {
      assertEquals(i / 5, labels[a[i]]);
    }
  }

  @Test
  void tooFewExamplesOfAClassIsRejectedNamingTheClass() {
    float[] train = new float[6];
    int[] labels = {0, 0, 0, 1, 1, 2};
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () ->
        FewShotEvaluator.evaluate(train, labels, new float[2], new int[] {0, 1}, 1, 3, 2, 0));
    assertTrue(e.getMessage().startsWith("class 2 has 1 training example, fewer than the 2 shots"), e.getMessage());
  }

  @Test
  void malformedInputsAreRejected() {
    float[] train = new float[8];
    int[] labels = {0, 1, 0, 1};
    float[] test = new float[4];
    int[] testLabels = {0, 1};
    assertThrows(IllegalArgumentException.class, () ->
        FewShotEvaluator.evaluate(new float[7], labels, test, testLabels, 2, 2, 1, 0));
    assertThrows(IllegalArgumentException.class, () ->
        FewShotEvaluator.evaluate(train, new int[] {0, 1, 0, 2}, test, testLabels, 2, 2, 1, 0));
    assertThrows(IllegalArgumentException.class, () ->
        FewShotEvaluator.evaluate(train, labels, test, testLabels, 2, 2, 0, 0));
    assertThrows(IllegalArgumentException.class, () ->
        FewShotEvaluator.evaluate(train, labels, new float[0], new int[0], 2, 2, 1, 0));
    float[] nan = train.clone();
    nan[3] = Float.NaN;
    assertThrows(IllegalArgumentException.class, () ->
        FewShotEvaluator.evaluate(nan, labels, test, testLabels, 2, 2, 2, 0));
  }
}

package io.vitfleet.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The few-shot linear evaluation of "Scaling Vision Transformers" on frozen features (big_vision's
 * {@code fewshot.py}): the quick signal of representation quality during training.
 *
 * <p>For each seed: take {@code shots} training examples per class (a deterministic choice from the seed);
 * standardise every feature with the mean and standard deviation of the chosen examples (divide by std + 1e-5, the
 * same transform for the test features); append a constant bias feature of 100, so the bias is almost unregularised;
 * regress onto targets 2 * onehot - 1 with closed-form ridge regression (l2 = 1024); predict the argmax; report the
 * accuracy on all test examples.
 *
 * <p>The ridge solve runs in double precision with a Cholesky factorisation: the primal
 * {@code (X^T X + l2 I) W = X^T Y} when there are at least as many examples N as features D (bias included), else
 * the dual {@code W = X^T (X X^T + l2 I)^-1 Y}, which is the same W with an N x N system instead of D x D.
 *
 * <p>Features are row-major: example i's features are {@code features[i * dim .. (i + 1) * dim)}.
 */
public final class FewShotEvaluator {
  /** Ridge penalty. */
  public static final double L2 = 1024;
  /** Value of the appended constant feature: large, so its weight (the bias) is barely penalised. */
  public static final double BIAS_FEATURE = 100;
  /** Added to each feature's standard deviation, so constant features do not divide by zero. */
  public static final double STD_EPSILON = 1e-5;
  /** The paper's shot counts. */
  public static final List<Integer> SHOTS = List.of(1, 5, 10, 25);
  /** The paper's three seeds. */
  public static final List<Long> SEEDS = List.of(0L, 1L, 2L);

  private FewShotEvaluator() {
  }

  /** Which form of the ridge solution to use; {@code AUTO} is the rule of the class comment. */
  enum Solver { AUTO, PRIMAL, DUAL }

  /**
   * Accuracies of one shot count.
   *
   * @param shots   examples per class
   * @param perSeed test accuracy of each seed, in seed order
   */
  public record ShotAccuracy(int shots, List<Double> perSeed) {
    public ShotAccuracy {
      perSeed = List.copyOf(perSeed);
    }

    public double mean() {
      return perSeed.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    }
  }

  /** Accuracies of a sweep over shot counts and seeds, one row per shot count in the order asked for. */
  public record Result(List<ShotAccuracy> rows, List<Long> seeds) {
    public Result {
      rows = List.copyOf(rows);
      seeds = List.copyOf(seeds);
    }

    /** Mean accuracy over the seeds for {@code shots} examples per class. */
    public double mean(int shots) {
      for (ShotAccuracy r : rows) {
        if (r.shots() == shots) {
          return r.mean();
        }
      }
      throw new IllegalArgumentException("no result for " + shots + " shots; this sweep ran " + shotCounts());
    }

    private List<Integer> shotCounts() {
      return rows.stream().map(ShotAccuracy::shots).toList();
    }
  }

  /** The paper's sweep: shots 1, 5, 10, 25 with seeds 0, 1, 2. */
  public static Result evaluateAll(float[] trainFeatures, int[] trainLabels, float[] testFeatures, int[] testLabels,
                                   int dim, int classes) {
    return evaluateAll(trainFeatures, trainLabels, testFeatures, testLabels, dim, classes, SHOTS, SEEDS);
  }

  /** A sweep over the given shot counts and seeds. */
  public static Result evaluateAll(float[] trainFeatures, int[] trainLabels, float[] testFeatures, int[] testLabels,
                                   int dim, int classes, List<Integer> shots, List<Long> seeds) {
    if (shots.isEmpty() || seeds.isEmpty()) {
      throw new IllegalArgumentException("few-shot sweep needs at least one shot count and one seed, got shots "
          + shots + " and seeds " + seeds);
    }
    List<ShotAccuracy> rows = new ArrayList<>();
    for (int s : shots) {
      List<Double> perSeed = new ArrayList<>();
      for (long seed : seeds) {
        perSeed.add(evaluate(trainFeatures, trainLabels, testFeatures, testLabels, dim, classes, s, seed));
      }
      rows.add(new ShotAccuracy(s, perSeed));
    }
    return new Result(rows, seeds);
  }

  /** Test accuracy in [0, 1] of the ridge classifier fitted on {@code shots} examples per class chosen by {@code seed}. */
  public static double evaluate(float[] trainFeatures, int[] trainLabels, float[] testFeatures, int[] testLabels,
                                int dim, int classes, int shots, long seed) {
    return evaluate(trainFeatures, trainLabels, testFeatures, testLabels, dim, classes, shots, seed, Solver.AUTO);
  }

  static double evaluate(float[] trainFeatures, int[] trainLabels, float[] testFeatures, int[] testLabels,
                         int dim, int classes, int shots, long seed, Solver solver) {
    checkSet("train", trainFeatures, trainLabels, dim, classes);
    checkSet("test", testFeatures, testLabels, dim, classes);
    if (shots <= 0) {
      throw new IllegalArgumentException("shots must be positive, got " + shots);
    }
    if (testLabels.length == 0) {
      throw new IllegalArgumentException("the test set is empty; few-shot accuracy needs test examples");
    }
    int[] chosen = select(trainLabels, classes, shots, seed);
    int n = chosen.length;
    int d = dim + 1;

    double[] mean = new double[dim];
    double[] scale = new double[dim];
    standardisation(trainFeatures, chosen, dim, mean, scale);

    double[] x = new double[n * d];
    double[] y = new double[n * classes];
    for (int r = 0; r < n; r++) {
      standardiseRow(trainFeatures, chosen[r], dim, mean, scale, x, r * d);
      for (int k = 0; k < classes; k++) {
        y[r * classes + k] = trainLabels[chosen[r]] == k ? 1 : -1;
      }
    }
    double[] w = ridgeWeights(x, n, d, y, classes, L2, solver);

    double[] row = new double[d];
    double[] scores = new double[classes];
    int correct = 0;
    for (int i = 0; i < testLabels.length; i++) {
      standardiseRow(testFeatures, i, dim, mean, scale, row, 0);
      if (argmaxScore(row, w, d, classes, scores) == testLabels[i]) {
        correct++;
      }
    }
    return (double) correct / testLabels.length;
  }

  /**
   * Indices of {@code shots} training examples per class, class by class: for each class, the first {@code shots}
   * of its examples after a shuffle keyed by (seed, class), so a class's choice does not depend on the others.
   */
  static int[] select(int[] labels, int classes, int shots, long seed) {
    int[] count = new int[classes];
    for (int label : labels) {
      count[label]++;
    }
    int[][] byClass = new int[classes][];
    for (int k = 0; k < classes; k++) {
      if (count[k] < shots) {
        throw new IllegalArgumentException("class " + k + " has " + count[k] + " training example"
            + (count[k] == 1 ? "" : "s") + ", fewer than the " + shots + " shots asked for; use fewer shots or a "
            + "training split with at least " + shots + " examples of every class");
      }
      byClass[k] = new int[count[k]];
    }
    int[] filled = new int[classes];
    for (int i = 0; i < labels.length; i++) {
      byClass[labels[i]][filled[labels[i]]++] = i;
    }
    int[] chosen = new int[classes * shots];
    for (int k = 0; k < classes; k++) {
      int[] idx = byClass[k];
      SplittableRandom rnd = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + k);
      // Partial Fisher-Yates: the first `shots` positions become a uniform sample without replacement.
      for (int j = 0; j < shots; j++) {
        int pick = j + rnd.nextInt(idx.length - j);
        int tmp = idx[j];
        idx[j] = idx[pick];
        idx[pick] = tmp;
      }
      System.arraycopy(idx, 0, chosen, k * shots, shots);
    }
    return chosen;
  }

  /**
   * Ridge regression weights W (D x C, row-major) for X (N x D) and Y (N x C): the primal solve when N >= D under
   * {@code AUTO}, else the dual.
   */
  static double[] ridgeWeights(double[] x, int n, int d, double[] y, int c, double l2, Solver solver) {
    boolean primal = solver == Solver.PRIMAL || (solver == Solver.AUTO && n >= d);
    if (primal) {
      // (X^T X + l2 I) W = X^T Y
      double[] a = new double[d * d];
      double[] b = new double[d * c];
      for (int r = 0; r < n; r++) {
        int xr = r * d;
        for (int i = 0; i < d; i++) {
          double xi = x[xr + i];
          if (xi == 0) {
            continue;
          }
          int ai = i * d;
          for (int j = i; j < d; j++) {
            a[ai + j] += xi * x[xr + j];
          }
          for (int k = 0; k < c; k++) {
            b[i * c + k] += xi * y[r * c + k];
          }
        }
      }
      addRidgeAndMirror(a, d, l2);
      choleskySolve(a, d, b, c);
      return b;
    }
    // W = X^T alpha with (X X^T + l2 I) alpha = Y
    double[] k = new double[n * n];
    for (int i = 0; i < n; i++) {
      for (int j = i; j < n; j++) {
        double dot = 0;
        for (int f = 0; f < d; f++) {
          dot += x[i * d + f] * x[j * d + f];
        }
        k[i * n + j] = dot;
      }
    }
    addRidgeAndMirror(k, n, l2);
    double[] alpha = y.clone();
    choleskySolve(k, n, alpha, c);
    double[] w = new double[d * c];
    for (int r = 0; r < n; r++) {
      for (int f = 0; f < d; f++) {
        double xf = x[r * d + f];
        for (int cc = 0; cc < c; cc++) {
          w[f * c + cc] += xf * alpha[r * c + cc];
        }
      }
    }
    return w;
  }

  /** Adds l2 to the diagonal of an upper-triangle-filled symmetric matrix and copies the upper triangle down. */
  private static void addRidgeAndMirror(double[] a, int n, double l2) {
    for (int i = 0; i < n; i++) {
      a[i * n + i] += l2;
      for (int j = i + 1; j < n; j++) {
        a[j * n + i] = a[i * n + j];
      }
    }
  }

  /**
   * Solves A X = B in place for a symmetric positive-definite A (n x n, destroyed: its lower triangle becomes the
   * Cholesky factor L) and B (n x cols, overwritten by X).
   */
  static void choleskySolve(double[] a, int n, double[] b, int cols) {
    for (int j = 0; j < n; j++) {
      double diag = a[j * n + j];
      for (int k = 0; k < j; k++) {
        diag -= a[j * n + k] * a[j * n + k];
      }
      if (!(diag > 0)) {
        throw new IllegalStateException("ridge system is not positive definite at row " + j + " (pivot " + diag
            + "); the features are likely not finite");
      }
      double ljj = Math.sqrt(diag);
      a[j * n + j] = ljj;
      for (int i = j + 1; i < n; i++) {
        double s = a[i * n + j];
        for (int k = 0; k < j; k++) {
          s -= a[i * n + k] * a[j * n + k];
        }
        a[i * n + j] = s / ljj;
      }
    }
    // L Z = B, then L^T X = Z.
    for (int i = 0; i < n; i++) {
      for (int k = 0; k < i; k++) {
        double lik = a[i * n + k];
        for (int col = 0; col < cols; col++) {
          b[i * cols + col] -= lik * b[k * cols + col];
        }
      }
      double lii = a[i * n + i];
      for (int col = 0; col < cols; col++) {
        b[i * cols + col] /= lii;
      }
    }
    for (int i = n - 1; i >= 0; i--) {
      for (int k = i + 1; k < n; k++) {
        double lki = a[k * n + i];
        for (int col = 0; col < cols; col++) {
          b[i * cols + col] -= lki * b[k * cols + col];
        }
      }
      double lii = a[i * n + i];
      for (int col = 0; col < cols; col++) {
        b[i * cols + col] /= lii;
      }
    }
  }

  /** Per-feature mean and 1 / (std + 1e-5) over the chosen examples (population std, as numpy computes it). */
  private static void standardisation(float[] features, int[] chosen, int dim, double[] mean, double[] scale) {
    for (int r : chosen) {
      for (int f = 0; f < dim; f++) {
        mean[f] += features[r * dim + f];
      }
    }
    for (int f = 0; f < dim; f++) {
      mean[f] /= chosen.length;
    }
    double[] var = new double[dim];
    for (int r : chosen) {
      for (int f = 0; f < dim; f++) {
        double dev = features[r * dim + f] - mean[f];
        var[f] += dev * dev;
      }
    }
    for (int f = 0; f < dim; f++) {
      if (!Double.isFinite(var[f])) {
        throw new IllegalArgumentException("training feature " + f + " is not finite (NaN or infinity) in the "
            + "chosen examples; check the feature extraction");
      }
      scale[f] = 1.0 / (Math.sqrt(var[f] / chosen.length) + STD_EPSILON);
    }
  }

  private static void standardiseRow(float[] features, int example, int dim, double[] mean, double[] scale,
                                     double[] out, int offset) {
    for (int f = 0; f < dim; f++) {
      out[offset + f] = (features[example * dim + f] - mean[f]) * scale[f];
    }
    out[offset + dim] = BIAS_FEATURE;
  }

  /** The class with the highest score x W (scores: scratch of length classes); ties go to the lowest index. */
  private static int argmaxScore(double[] x, double[] w, int d, int classes, double[] scores) {
    Arrays.fill(scores, 0);
    for (int f = 0; f < d; f++) {
      double xf = x[f];
      int wf = f * classes;
      for (int k = 0; k < classes; k++) {
        scores[k] += xf * w[wf + k];
      }
    }
    int best = 0;
    for (int k = 1; k < classes; k++) {
      if (scores[k] > scores[best]) {
        best = k;
      }
    }
    return best;
  }

  private static void checkSet(String which, float[] features, int[] labels, int dim, int classes) {
    if (dim <= 0) {
      throw new IllegalArgumentException("feature dimension must be positive, got " + dim);
    }
    if (classes <= 0) {
      throw new IllegalArgumentException("class count must be positive, got " + classes);
    }
    if ((long) labels.length * dim != features.length) {
      throw new IllegalArgumentException(which + " set: " + features.length + " feature values do not make "
          + labels.length + " examples of dimension " + dim + " (expected " + (long) labels.length * dim + ")");
    }
    for (int i = 0; i < labels.length; i++) {
      if (labels[i] < 0 || labels[i] >= classes) {
        throw new IllegalArgumentException(which + " example " + i + " has label " + labels[i] + ", outside [0, "
            + classes + ")");
      }
    }
  }
}

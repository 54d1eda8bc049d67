package io.vitfleet.paramstore;

import io.vitfleet.protocol.SecondMomentLayout;
import java.util.Arrays;

/**
 * Step 4 of the chain, for one factored tensor: the factored RMS. Keeps {@code v_row} (mean of g^2 over the largest
 * axis d0) and {@code v_col} (mean over the second largest, d1), and scales the gradient by
 * {@code (v_row / mean(v_row over d1))^-1/2 * v_col^-1/2} broadcast back over the tensor.
 *
 * <p>The tensor is seen as {@code [outer, p, between, q, inner]} (see {@link SecondMomentLayout}). Pass 1 streams it
 * in <em>runs</em>: one per index of {@code [outer, p]}, each the contiguous {@code [between, q, inner]} block behind
 * it. Over a run the mean over p is one contiguous slice ({@code [between, q, inner]} at {@code outer * runLength}),
 * and the mean over q is {@code between * inner} values broadcast along q. Pass 2 goes by momentum blocks and
 * {@link #update copies} the factors into each block. Sums follow numpy's order (see
 * {@link PairwiseSum}): over p sequentially in p order; over q pairwise when q is the last non-trivial axis, else
 * sequentially.
 */
final class FactoredSecondMoment {
  private final int outer;
  private final int p;
  private final int between;
  private final int q;
  private final int inner;
  private final boolean rowIsOverP;

  FactoredSecondMoment(SecondMomentLayout layout) {
    if (!layout.factored()) {
      throw new IllegalArgumentException("tensor " + layout + " is not factored");
    }
    this.outer = layout.outer();
    this.p = layout.p();
    this.between = layout.between();
    this.q = layout.q();
    this.inner = layout.inner();
    this.rowIsOverP = layout.rowIsMeanOverP();
  }

  /** Number of runs the tensor streams in. */
  int runs() {
    return outer * p;
  }

  /** Elements per run. */
  int runLength() {
    return between * q * inner;
  }

  /** Elements of the mean over the first factored axis ({@code [outer, between, q, inner]}). */
  int overPSize() {
    return outer * between * q * inner;
  }

  /** Elements of the mean over the second factored axis ({@code [outer, p, between, inner]}). */
  int overQSize() {
    return outer * p * between * inner;
  }

  /** True when {@code v_row} is the mean over the first factored axis (d0 comes before d1). */
  boolean rowIsOverP() {
    return rowIsOverP;
  }

  // ---- pass 1: statistics ------------------------------------------------------------------------------------

  /**
   * Steps 1 and 3 over run {@code run} of the gradients at {@code g[gOff ..]}: clips and squares ({@code g*g + eps})
   * into {@code w.runG2}, adds them to the sums over p (accumulated in {@code w.runSum} and moved into
   * {@code sumOverP} after the last run of each outer index) and writes the run's sums over q. Runs must come in
   * order, starting with {@code w.runSum} zeroed.
   */
  void accumulate(float[] g, int gOff, int run, StepFactors f, Workspace w, float[] sumOverP, float[] sumOverQ) {
    int runLength = runLength();
    float[] g2 = w.runG2;
    float[] acc = w.runSum;
    System.arraycopy(g, gOff, g2, 0, runLength);
    squareAndAdd(g2, acc, runLength, f.clipDivisor(), f.clipFactor(), f.eps());
    if (run % p == p - 1) {
      System.arraycopy(acc, 0, sumOverP, (run / p) * runLength, runLength);
      Arrays.fill(acc, 0, runLength, 0f);
    }
    int qBase = run * between * inner;
    if (inner == 1) {
      for (int b = 0; b < between; b++) {
        sumOverQ[qBase + b] = PairwiseSum.sum(g2, b * q, q);
      }
      return;
    }
    for (int b = 0; b < between; b++) {
      int dst = qBase + b * inner;
      for (int c = 0; c < inner; c++) {
        sumOverQ[dst + c] = 0f;
      }
      for (int iq = 0; iq < q; iq++) {
        int src = (b * q + iq) * inner;
        for (int c = 0; c < inner; c++) {
          sumOverQ[dst + c] += g2[src + c];
        }
      }
    }
  }

  /** {@code g2[k] = clip(g)^2 + eps} in place, and {@code acc[k] += g2[k]} (one index: the loop vectorises). */
  static void squareAndAdd(float[] g2, float[] acc, int n, float clipDivisor, float clipFactor, float eps) {
    for (int k = 0; k < n; k++) {
      float c = GlobalNormClip.apply(g2[k], clipDivisor, clipFactor);
      float s = c * c + eps;
      g2[k] = s;
      acc[k] += s;
    }
  }

  /** Turns the sums of {@link #accumulate} into means, in place. */
  void sumsToMeans(float[] sumOverP, float[] sumOverQ) {
    divide(sumOverP, overPSize(), p);
    divide(sumOverQ, overQSize(), q);
  }

  /** {@code v <- beta2 * v + (1 - beta2) * mean}, elementwise. */
  static void decay(float[] v, float[] mean, int n, float beta2, float oneMinusBeta2) {
    for (int i = 0; i < n; i++) {
      v[i] = beta2 * v[i] + oneMinusBeta2 * mean[i];
    }
  }

  /**
   * The broadcast factors: {@code rowFactor = (vRow / mean(vRow over d1))^-1/2} and {@code colFactor = vCol^-1/2}.
   * {@code rowMean} is scratch of at least {@code rowSize / size(d1)} elements.
   */
  void factors(float[] vRow, float[] vCol, float[] rowMean, float[] rowFactor, float[] colFactor) {
    // v_row's own d1 axis, as [x, n, y]: in [outer, between, q, inner] it is q; in [outer, p, between, inner] it is p.
    int x = rowIsOverP ? outer * between : outer;
    int n = rowIsOverP ? q : p;
    int y = rowIsOverP ? inner : between * inner;
    meanOverMiddle(vRow, x, n, y, rowMean);
    for (int i = 0; i < x; i++) {
      for (int j = 0; j < n; j++) {
        int base = (i * n + j) * y;
        for (int k = 0; k < y; k++) {
          rowFactor[base + k] = rsqrt(vRow[base + k] / rowMean[i * y + k]);
        }
      }
    }
    int cols = rowIsOverP ? overQSize() : overPSize();
    for (int i = 0; i < cols; i++) {
      colFactor[i] = rsqrt(vCol[i]);
    }
  }

  // ---- pass 2: the update ------------------------------------------------------------------------------------

  /**
   * Pass 2 over elements {@code [start, start + len)} of the tensor (any range, across runs), gathered in
   * {@code w.g, w.p, w.m} from index 0: copies the factors along each run (the mean-over-p shape is contiguous there)
   * into the block, and either passes the run's one factor over q to a kernel as a scalar or, when it changes along
   * the run, broadcasts it into the block first.
   */
  void update(int start, int len, float[] factorOverP, float[] factorOverQ, Workspace w, StepFactors f,
              float decay) {
    float[] alongRun = rowIsOverP ? w.row : w.col;
    float[] broadcast = rowIsOverP ? w.col : w.row;
    int runLength = runLength();
    boolean oneQFactorPerRun = between == 1 && inner == 1;
    int end = start + len;
    for (int pos = start; pos < end; ) {
      int run = pos / runLength;
      int k = pos - run * runLength;
      int n = Math.min(runLength - k, end - pos);
      int out = pos - start;
      System.arraycopy(factorOverP, (run / p) * runLength + k, alongRun, out, n);
      if (oneQFactorPerRun) {
        float qFactor = factorOverQ[run];
        if (rowIsOverP) {
          FusedUpdate.factoredOneCol(w.g, w.p, w.m, w.row, qFactor, out, out + n, f, decay);
        } else {
          FusedUpdate.factoredOneRow(w.g, w.p, w.m, qFactor, w.col, out, out + n, f, decay);
        }
      } else {
        broadcastOverQ(run, k, n, factorOverQ, broadcast, out);
        FusedUpdate.factored(w.g, w.p, w.m, w.row, w.col, out, out + n, f, decay);
      }
      pos += n;
    }
  }

  /** Run {@code run}'s factors over q for its elements {@code [k, k + n)}, one per element into {@code out ..}. */
  private void broadcastOverQ(int run, int k, int n, float[] factorOverQ, float[] dst, int out) {
    int qBase = run * between * inner;
    if (inner == 1) {
      // Element i of the run is (b, iq): its factor over q is qBase + b, constant along iq.
      for (int i = k; i < k + n; ) {
        int b = i / q;
        int stop = Math.min(k + n, (b + 1) * q);
        Arrays.fill(dst, out + i - k, out + stop - k, factorOverQ[qBase + b]);
        i = stop;
      }
      return;
    }
    // Element i of the run is (b, iq, c): its factor over q is qBase + b * inner + c.
    for (int i = k; i < k + n; ) {
      int b = i / (q * inner);
      int c = i % inner;
      int m = Math.min(inner - c, k + n - i);
      System.arraycopy(factorOverQ, qBase + b * inner + c, dst, out + i - k, m);
      i += m;
    }
  }

  /**
   * numpy's float32 mean of {@code src} seen as {@code [x, n, y]} over its middle axis, into {@code out[x * y]}:
   * pairwise when {@code y == 1} (a contiguous axis), else sequential.
   */
  static void meanOverMiddle(float[] src, int x, int n, int y, float[] out) {
    if (y == 1) {
      for (int i = 0; i < x; i++) {
        out[i] = PairwiseSum.sum(src, i * n, n);
      }
    } else {
      for (int i = 0; i < x * y; i++) {
        out[i] = 0f;
      }
      for (int i = 0; i < x; i++) {
        for (int j = 0; j < n; j++) {
          int base = (i * n + j) * y;
          for (int k = 0; k < y; k++) {
            out[i * y + k] += src[base + k];
          }
        }
      }
    }
    divide(out, x * y, n);
  }

  /** {@code x^-1/2} rounded to float32, as a float32 {@code x ** -0.5} (correctly rounded, not a fast estimate). */
  static float rsqrt(float x) {
    return (float) (1.0 / Math.sqrt(x));
  }

  private static void divide(float[] a, int n, int count) {
    float c = count;
    for (int i = 0; i < n; i++) {
      a[i] = a[i] / c;
    }
  }
}

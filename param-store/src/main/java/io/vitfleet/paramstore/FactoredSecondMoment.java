package io.vitfleet.paramstore;

import io.vitfleet.protocol.SecondMomentLayout;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * Step 4 of the chain, for one factored tensor: the factored RMS. Keeps {@code v_row} (mean of g^2 over the largest
 * axis d0) and {@code v_col} (mean over the second largest, d1), and scales the gradient by
 * {@code (v_row / mean(v_row over d1))^-1/2 * v_col^-1/2} broadcast back over the tensor.
 *
 * <p>The tensor is seen as {@code [outer, p, between, q, inner]} (see {@link SecondMomentLayout}). Pass 1 streams it
 * in <em>runs</em>: one per index of {@code [outer, p]}, each the contiguous {@code [between, q, inner]} block behind
 * it. Over a run the mean over p is one contiguous slice ({@code [between, q, inner]} at {@code outer * runLength}),
 * and the mean over q is {@code between * inner} values broadcast along q. Pass 2 goes by momentum blocks and
 * {@link #update hands} each piece of a block to a kernel with its factors in place (no copies). Sums follow
 * numpy's order (see {@link PairwiseSum}): over p sequentially in p order; over q pairwise when q is the last
 * non-trivial axis, else sequentially.
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
   * Steps 1 and 3 over run {@code run} of the gradients at {@code g[gOff ..]}: clips and squares
   * ({@code g*g + eps}), adds the squares to the sums over p (in {@code sumOverP}, the slice of the run's outer
   * index, zeroed at its first run) and writes the run's sums over q. Runs must come in order.
   *
   * <p>When q is the last non-trivial axis ({@code inner == 1}) the squares are summed over q pairwise as they are
   * made, in one sweep over the gradients ({@link #clippedSquares}); otherwise they go through {@code w.runG2} and
   * are summed over q sequentially.
   */
  void accumulate(float[] g, int gOff, int run, StepFactors f, Workspace w, float[] sumOverP, float[] sumOverQ) {
    int runLength = runLength();
    int pBase = (run / p) * runLength;
    if (run % p == 0) {
      Arrays.fill(sumOverP, pBase, pBase + runLength, 0f);
    }
    float div = f.clipDivisor();
    float fac = f.clipFactor();
    float eps = f.eps();
    int qBase = run * between * inner;
    if (inner == 1) {
      for (int b = 0; b < between; b++) {
        sumOverQ[qBase + b] = clippedSquares(g, gOff + b * q, sumOverP, pBase + b * q, q, div, fac, eps, w.walk);
      }
      return;
    }
    float[] g2 = w.runG2;
    squareAndAdd(g, gOff, g2, sumOverP, pBase, runLength, div, fac, eps);
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

  /** {@code g2[k] = clip(g[gOff + k])^2 + eps} and {@code acc[accOff + k] += g2[k]} for {@code k < n}. */
  static void squareAndAdd(float[] g, int gOff, float[] g2, float[] acc, int accOff, int n, float clipDivisor,
                           float clipFactor, float eps) {
    FloatVector div = FloatVector.broadcast(PairwiseSum.FLOATS, clipDivisor);
    FloatVector fac = FloatVector.broadcast(PairwiseSum.FLOATS, clipFactor);
    FloatVector e = FloatVector.broadcast(PairwiseSum.FLOATS, eps);
    int i = 0;
    for (int bound = PairwiseSum.FLOATS.loopBound(n); i < bound; i += PairwiseSum.FLOATS.length()) {
      FloatVector c = FloatVector.fromArray(PairwiseSum.FLOATS, g, gOff + i).div(div).mul(fac);
      FloatVector s = c.mul(c).add(e);
      s.intoArray(g2, i);
      FloatVector.fromArray(PairwiseSum.FLOATS, acc, accOff + i).add(s).intoArray(acc, accOff + i);
    }
    for (; i < n; i++) {
      float s = square(g[gOff + i], clipDivisor, clipFactor, eps);
      g2[i] = s;
      acc[accOff + i] += s;
    }
  }

  /**
   * numpy's pairwise sum ({@link PairwiseSum#sum}) of {@code clip(g)^2 + eps} over {@code g[gOff .. gOff + n)},
   * adding each square to {@code acc[accOff + k]} on the way: the same tree, with the squares made in its blocks.
   */
  static float clippedSquares(float[] g, int gOff, float[] acc, int accOff, int n, float clipDivisor,
                              float clipFactor, float eps, PairwiseSum.Walk w) {
    int top = w.start(n);
    for (int at = 0; ; ) {
      int m = w.length[top];
      if (m > PairwiseSum.BLOCK) {
        top = w.open(top);
        continue;
      }
      float v = clippedSquaresBlock(g, gOff + at, acc, accOff + at, m, clipDivisor, clipFactor, eps);
      at += m;
      for (; top > 0 && w.leftDone[top - 1]; top--) {
        v = w.floats[top - 1] + v;
      }
      if (top == 0) {
        return v;
      }
      w.floats[top - 1] = v;
      w.closeLeft(top);
    }
  }

  /** One block of {@link #clippedSquares} ({@code n <= 128}): 8 partial sums, as {@link PairwiseSum#sum}. */
  private static float clippedSquaresBlock(float[] g, int gOff, float[] acc, int accOff, int n, float clipDivisor,
                                           float clipFactor, float eps) {
    float res = 0f;
    int i = 0;
    if (n >= PairwiseSum.PARTIALS) {
      FloatVector div = FloatVector.broadcast(PairwiseSum.FLOATS, clipDivisor);
      FloatVector fac = FloatVector.broadcast(PairwiseSum.FLOATS, clipFactor);
      FloatVector e = FloatVector.broadcast(PairwiseSum.FLOATS, eps);
      FloatVector r = FloatVector.zero(PairwiseSum.FLOATS);
      for (int end = n - (n % PairwiseSum.PARTIALS); i < end; i += PairwiseSum.PARTIALS) {
        FloatVector c = FloatVector.fromArray(PairwiseSum.FLOATS, g, gOff + i).div(div).mul(fac);
        FloatVector s = c.mul(c).add(e);
        FloatVector.fromArray(PairwiseSum.FLOATS, acc, accOff + i).add(s).intoArray(acc, accOff + i);
        // numpy starts each partial sum at the block's first 8 values; 0 + s is s exactly (s > 0).
        r = r.add(s);
      }
      res = ((r.lane(0) + r.lane(1)) + (r.lane(2) + r.lane(3))) + ((r.lane(4) + r.lane(5)) + (r.lane(6) + r.lane(7)));
    }
    for (; i < n; i++) {
      float s = square(g[gOff + i], clipDivisor, clipFactor, eps);
      acc[accOff + i] += s;
      res += s;
    }
    return res;
  }

  private static float square(float g, float clipDivisor, float clipFactor, float eps) {
    float c = GlobalNormClip.apply(g, clipDivisor, clipFactor);
    return c * c + eps;
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
  void factors(float[] vRow, float[] vCol, float[] rowMean, float[] rowFactor, float[] colFactor,
               PairwiseSum.Walk walk) {
    // v_row's own d1 axis, as [x, n, y]: in [outer, between, q, inner] it is q; in [outer, p, between, inner] it is p.
    int x = rowIsOverP ? outer * between : outer;
    int n = rowIsOverP ? q : p;
    int y = rowIsOverP ? inner : between * inner;
    meanOverMiddle(vRow, x, n, y, rowMean, walk);
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
   * Pass 2 over one momentum block: the tensor's elements {@code [start, start + len)}, whose momentum is the packed
   * {@code block} ({@link Bf16Momentum}). The block's scaled gradients go into {@code w.u} piece by piece, over
   * pieces where the factor over p runs along the elements (the mean-over-p shape is contiguous along a run) and the
   * factor over q is one value (q is the last non-trivial axis) or runs along them too (the {@code inner} axes after
   * q); then the block takes its momentum and step in one go.
   */
  void update(float[] g, int gOff, float[] p, int pOff, int[] block, int start, int len, float[] factorOverP,
              float[] factorOverQ, Workspace w, StepFactors f, float decay) {
    scale(g, gOff, start, start + len, factorOverP, factorOverQ, w.u, f);
    FusedUpdate.momentumAndStep(w.u, p, pOff + start, block, len, w.lowBits, w.highBits, f, decay);
  }

  /** The scaled gradients {@code u} of the tensor's elements {@code [from, to)} into {@code u[0 ..)}. */
  private void scale(float[] g, int gOff, int from, int to, float[] factorOverP, float[] factorOverQ, float[] u,
                     StepFactors f) {
    int runLength = runLength();
    for (int pos = from; pos < to; ) {
      int run = pos / runLength;
      int k = pos - run * runLength;
      int alongRun = (run / p) * runLength + k;
      int qBase = run * between * inner;
      int out = pos - from;
      int n;
      if (inner == 1) {
        // Element k of the run is (b, iq): its factor over q is qBase + b, constant along iq.
        int b = k / q;
        n = Math.min(to - pos, (b + 1) * q - k);
        float qFactor = factorOverQ[qBase + b];
        if (rowIsOverP) {
          FusedUpdate.scaleByRowsAndCol(g, gOff + pos, factorOverP, alongRun, qFactor, u, out, n, f);
        } else {
          FusedUpdate.scaleByRowAndCols(g, gOff + pos, qFactor, factorOverP, alongRun, u, out, n, f);
        }
      } else {
        // Element k of the run is (b, iq, c): its factor over q is qBase + b * inner + c, running along c.
        int b = k / (q * inner);
        int c = k % inner;
        n = Math.min(to - pos, inner - c);
        int overQ = qBase + b * inner + c;
        if (rowIsOverP) {
          FusedUpdate.scaleByRowsAndCols(g, gOff + pos, factorOverP, alongRun, factorOverQ, overQ, u, out, n, f);
        } else {
          FusedUpdate.scaleByRowsAndCols(g, gOff + pos, factorOverQ, overQ, factorOverP, alongRun, u, out, n, f);
        }
      }
      pos += n;
    }
  }

  /**
   * numpy's float32 mean of {@code src} seen as {@code [x, n, y]} over its middle axis, into {@code out[x * y]}:
   * pairwise when {@code y == 1} (a contiguous axis), else sequential.
   */
  static void meanOverMiddle(float[] src, int x, int n, int y, float[] out, PairwiseSum.Walk walk) {
    if (y == 1) {
      for (int i = 0; i < x; i++) {
        out[i] = PairwiseSum.sum(src, i * n, n, walk);
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

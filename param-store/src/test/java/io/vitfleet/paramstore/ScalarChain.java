package io.vitfleet.paramstore;

import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.SecondMomentLayout;

/**
 * The optimizer written plainly, one element at a time in float32, with numpy's summation order spelled out: the
 * yardstick the vectorised {@link Adafactor} must equal bit for bit. Nothing here is shared with the optimizer's
 * kernels but the scalar links ({@link GlobalNormClip}, {@link Bf16#round}, {@link ScheduledStep},
 * {@link StepFactors}). The momentum is kept as plain bfloat16 bits in element order.
 */
final class ScalarChain {
  final ParameterManifest manifest;
  final OptimizerConfig config;
  final short[][] m;
  final float[][] vRow;
  final float[][] vCol;
  final float[][] v;

  ScalarChain(OptimizerConfig config, ParameterManifest manifest) {
    this.config = config;
    this.manifest = manifest;
    int n = manifest.count();
    m = new short[n][];
    vRow = new float[n][];
    vCol = new float[n][];
    v = new float[n][];
    for (int t = 0; t < n; t++) {
      SecondMomentLayout l = layout(t);
      m[t] = new short[(int) l.size()];
      if (l.factored()) {
        vRow[t] = new float[l.rowSize()];
        vCol[t] = new float[l.colSize()];
      } else {
        v[t] = new float[(int) l.size()];
      }
    }
  }

  SecondMomentLayout layout(int t) {
    return SecondMomentLayout.of(manifest.get(t).shape(), config.minDimToFactor());
  }

  /** One update of the manifest-order {@code params} with {@code grads}, clipping with {@code norm}. */
  void update(float[] params, float[] grads, long count, double norm) {
    StepFactors f = StepFactors.of(config, count, norm);
    for (int t = 0; t < manifest.count(); t++) {
      int off = (int) manifest.offset(t);
      float decay = (float) (config.wd() * config.rules().multiplier(manifest.get(t).name()));
      if (layout(t).factored()) {
        factored(t, params, grads, off, f, decay);
      } else {
        unfactored(t, params, grads, off, f, decay);
      }
    }
  }

  private void factored(int t, float[] params, float[] grads, int off, StepFactors f, float decay) {
    SecondMomentLayout l = layout(t);
    int outer = l.outer();
    int p = l.p();
    int between = l.between();
    int q = l.q();
    int inner = l.inner();
    int size = (int) l.size();
    float[] g2 = new float[size];
    for (int i = 0; i < size; i++) {
      float c = clip(grads[off + i], f);
      g2[i] = c * c + f.eps();
    }
    // Sums over p (in p order, from 0) and over q (pairwise when q is the last non-trivial axis, else in order).
    float[] overP = new float[outer * between * q * inner];
    float[] overQ = new float[outer * p * between * inner];
    for (int o = 0; o < outer; o++) {
      for (int b = 0; b < between; b++) {
        for (int iq = 0; iq < q; iq++) {
          for (int c = 0; c < inner; c++) {
            float s = 0f;
            for (int ip = 0; ip < p; ip++) {
              s += g2[index(l, o, ip, b, iq, c)];
            }
            overP[((o * between + b) * q + iq) * inner + c] = s / p;
          }
        }
      }
      for (int ip = 0; ip < p; ip++) {
        for (int b = 0; b < between; b++) {
          for (int c = 0; c < inner; c++) {
            float s;
            if (inner == 1) {
              s = pairwise(g2, index(l, o, ip, b, 0, 0), q);
            } else {
              s = 0f;
              for (int iq = 0; iq < q; iq++) {
                s += g2[index(l, o, ip, b, iq, c)];
              }
            }
            overQ[((o * p + ip) * between + b) * inner + c] = s / q;
          }
        }
      }
    }
    boolean rowIsOverP = l.rowIsMeanOverP();
    decay(vRow[t], rowIsOverP ? overP : overQ, f);
    decay(vCol[t], rowIsOverP ? overQ : overP, f);
    // The mean of v_row over d1, v_row seen as [x, n, y] with d1 in the middle.
    int x = rowIsOverP ? outer * between : outer;
    int n = rowIsOverP ? q : p;
    int y = rowIsOverP ? inner : between * inner;
    float[] rowMean = new float[x * y];
    for (int i = 0; i < x; i++) {
      for (int k = 0; k < y; k++) {
        float s;
        if (y == 1) {
          s = pairwise(vRow[t], i * n, n);
        } else {
          s = 0f;
          for (int j = 0; j < n; j++) {
            s += vRow[t][(i * n + j) * y + k];
          }
        }
        rowMean[i * y + k] = s / n;
      }
    }
    for (int o = 0; o < outer; o++) {
      for (int ip = 0; ip < p; ip++) {
        for (int b = 0; b < between; b++) {
          for (int iq = 0; iq < q; iq++) {
            for (int c = 0; c < inner; c++) {
              int iP = ((o * between + b) * q + iq) * inner + c;
              int iQ = ((o * p + ip) * between + b) * inner + c;
              int iRow = rowIsOverP ? iP : iQ;
              int iCol = rowIsOverP ? iQ : iP;
              int meanAt = iRow / (n * y) * y + iRow % y;
              float row = rsqrt(vRow[t][iRow] / rowMean[meanAt]);
              float col = rsqrt(vCol[t][iCol]);
              int e = index(l, o, ip, b, iq, c);
              step(t, e, params, off, (clip(grads[off + e], f) * row) * col, f, decay);
            }
          }
        }
      }
    }
  }

  private void unfactored(int t, float[] params, float[] grads, int off, StepFactors f, float decay) {
    for (int e = 0; e < v[t].length; e++) {
      float cg = clip(grads[off + e], f);
      v[t][e] = f.beta2() * v[t][e] + f.oneMinusBeta2() * (cg * cg + f.eps());
      step(t, e, params, off, cg * rsqrt(v[t][e]), f, decay);
    }
  }

  private void step(int t, int e, float[] params, int off, float u, StepFactors f, float decay) {
    float m32 = f.momentum() * Bf16.toFloat(m[t][e]) + f.oneMinusMomentum() * u;
    m[t][e] = Bf16.round(m32);
    params[off + e] = ScheduledStep.apply(params[off + e], m32, f.lr(), decay, f.schedule());
  }

  private static void decay(float[] v, float[] mean, StepFactors f) {
    for (int i = 0; i < v.length; i++) {
      v[i] = f.beta2() * v[i] + f.oneMinusBeta2() * mean[i];
    }
  }

  /** Row-major index of element (o, ip, b, iq, c) of {@code [outer, p, between, q, inner]}. */
  private static int index(SecondMomentLayout l, int o, int ip, int b, int iq, int c) {
    return (((o * l.p() + ip) * l.between() + b) * l.q() + iq) * l.inner() + c;
  }

  private static float clip(float g, StepFactors f) {
    return GlobalNormClip.apply(g, f.clipDivisor(), f.clipFactor());
  }

  private static float rsqrt(float x) {
    return (float) (1.0 / Math.sqrt(x));
  }

  /** numpy's float32 pairwise_sum, element by element. */
  static float pairwise(float[] a, int off, int n) {
    if (n < 8) {
      float res = 0f;
      for (int i = 0; i < n; i++) {
        res += a[off + i];
      }
      return res;
    }
    if (n <= 128) {
      float[] r = new float[8];
      System.arraycopy(a, off, r, 0, 8);
      int i = 8;
      for (; i < n - n % 8; i += 8) {
        for (int k = 0; k < 8; k++) {
          r[k] += a[off + i + k];
        }
      }
      float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
      for (; i < n; i++) {
        res += a[off + i];
      }
      return res;
    }
    int n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise(a, off, n2) + pairwise(a, off + n2, n - n2);
  }

  /** numpy's float64 pairwise_sum of the squares, element by element. */
  static double pairwiseSquares(float[] a, int off, int n) {
    if (n < 8) {
      double res = 0.0;
      for (int i = 0; i < n; i++) {
        res += (double) a[off + i] * a[off + i];
      }
      return res;
    }
    if (n <= 128) {
      double[] r = new double[8];
      for (int k = 0; k < 8; k++) {
        r[k] = (double) a[off + k] * a[off + k];
      }
      int i = 8;
      for (; i < n - n % 8; i += 8) {
        for (int k = 0; k < 8; k++) {
          r[k] += (double) a[off + i + k] * a[off + i + k];
        }
      }
      double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
      for (; i < n; i++) {
        res += (double) a[off + i] * a[off + i];
      }
      return res;
    }
    int n2 = n / 2;
    n2 -= n2 % 8;
    return pairwiseSquares(a, off, n2) + pairwiseSquares(a, off + n2, n - n2);
  }
}

package io.vitfleet.paramstore;

/**
 * Sums in numpy's order, so the optimizer's means round as the float32 reference oracle's do: numpy sums a
 * contiguous axis pairwise (blocks of at most 128 elements summed in 8 interleaved partial sums, blocks combined
 * as a binary tree) and a strided axis sequentially. Sequential sums are written inline where they are needed.
 */
final class PairwiseSum {
  /** numpy's PW_BLOCKSIZE: blocks up to this length are summed with 8 partial sums. */
  static final int BLOCK = 128;

  private PairwiseSum() {
  }

  /** numpy's float32 {@code pairwise_sum} of {@code a[off .. off + n)}. */
  static float sum(float[] a, int off, int n) {
    if (n < 8) {
      float res = 0f;
      for (int i = 0; i < n; i++) {
        res += a[off + i];
      }
      return res;
    }
    if (n <= BLOCK) {
      float r0 = a[off];
      float r1 = a[off + 1];
      float r2 = a[off + 2];
      float r3 = a[off + 3];
      float r4 = a[off + 4];
      float r5 = a[off + 5];
      float r6 = a[off + 6];
      float r7 = a[off + 7];
      int i = 8;
      int end = n - (n % 8);
      for (; i < end; i += 8) {
        int j = off + i;
        r0 += a[j];
        r1 += a[j + 1];
        r2 += a[j + 2];
        r3 += a[j + 3];
        r4 += a[j + 4];
        r5 += a[j + 5];
        r6 += a[j + 6];
        r7 += a[j + 7];
      }
      float res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
      for (; i < n; i++) {
        res += a[off + i];
      }
      return res;
    }
    int n2 = n / 2;
    n2 -= n2 % 8;
    return sum(a, off, n2) + sum(a, off + n2, n - n2);
  }

  /**
   * numpy's float64 pairwise sum of the squares of {@code a[off .. off + n)} widened to double, i.e.
   * {@code np.sum(a.astype(np.float64) ** 2)}. Each square is exact in double.
   */
  static double sumOfSquares(float[] a, int off, int n) {
    if (n < 8) {
      double res = 0.0;
      for (int i = 0; i < n; i++) {
        double x = a[off + i];
        res += x * x;
      }
      return res;
    }
    if (n <= BLOCK) {
      double r0 = sq(a[off]);
      double r1 = sq(a[off + 1]);
      double r2 = sq(a[off + 2]);
      double r3 = sq(a[off + 3]);
      double r4 = sq(a[off + 4]);
      double r5 = sq(a[off + 5]);
      double r6 = sq(a[off + 6]);
      double r7 = sq(a[off + 7]);
      int i = 8;
      int end = n - (n % 8);
      for (; i < end; i += 8) {
        int j = off + i;
        r0 += sq(a[j]);
        r1 += sq(a[j + 1]);
        r2 += sq(a[j + 2]);
        r3 += sq(a[j + 3]);
        r4 += sq(a[j + 4]);
        r5 += sq(a[j + 5]);
        r6 += sq(a[j + 6]);
        r7 += sq(a[j + 7]);
      }
      double res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
      for (; i < n; i++) {
        res += sq(a[off + i]);
      }
      return res;
    }
    int n2 = n / 2;
    n2 -= n2 % 8;
    return sumOfSquares(a, off, n2) + sumOfSquares(a, off + n2, n - n2);
  }

  private static double sq(float f) {
    double x = f;
    return x * x;
  }
}

package io.vitfleet.paramstore;

import static jdk.incubator.vector.VectorOperators.F2D;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Sums in numpy's order, so the optimizer's means round as the float32 reference oracle's do: numpy sums a
 * contiguous axis pairwise (blocks of at most 128 elements summed in 8 interleaved partial sums, blocks combined
 * as a binary tree) and a strided axis sequentially. Sequential sums are written inline where they are needed.
 *
 * <p>The 8 interleaved partial sums of a block are exactly the 8 lanes of a vector that adds 8 consecutive elements
 * at a time, so a block is summed with one 8-lane vector accumulator and its lanes are combined in numpy's tree
 * order: the same float operations in the same order, hence the same bits, at vector speed (the JIT does not
 * vectorise 8 separate scalar accumulators). Each block is summed inside one method, because the JIT (C2, JDK 17)
 * does not always inline a helper that takes a vector, and a vector that crosses a call is boxed on the heap; the
 * blocks are combined by a {@link Walk} rather than by recursion.
 */
final class PairwiseSum {
  /** numpy's PW_BLOCKSIZE: blocks up to this length are summed with 8 partial sums. */
  static final int BLOCK = 128;
  /** numpy's number of partial sums per block, and the lane count of the vectors that hold them. */
  static final int PARTIALS = 8;

  static final VectorSpecies<Float> FLOATS = FloatVector.SPECIES_256;
  private static final VectorSpecies<Double> DOUBLES = DoubleVector.SPECIES_512;
  /**
   * Whether the CPU has 512-bit vectors for {@link #DOUBLES} (AVX-512). Without them the JIT would run that species
   * as Java code on boxed vectors, far slower than the scalar partial sums the squared norms then use.
   */
  static final boolean WIDE_DOUBLES = DoubleVector.SPECIES_PREFERRED.length() >= PARTIALS;

  private PairwiseSum() {
  }

  /** numpy's float32 {@code pairwise_sum} of {@code a[off .. off + n)}. */
  static float sum(float[] a, int off, int n) {
    return sum(a, off, n, new Walk());
  }

  /** {@link #sum(float[], int, int)} with the caller's scratch. */
  static float sum(float[] a, int off, int n, Walk w) {
    int top = w.start(n);
    for (int at = off; ; ) {
      int m = w.length[top];
      if (m > BLOCK) {
        top = w.open(top);
        continue;
      }
      float v = blockSum(a, at, m);
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

  /**
   * numpy's float64 pairwise sum of the squares of {@code a[off .. off + n)} widened to double, i.e.
   * {@code np.sum(a.astype(np.float64) ** 2)}. Each square is exact in double.
   */
  static double sumOfSquares(float[] a, int off, int n) {
    return sumOfSquares(a, off, n, new Walk());
  }

  /** {@link #sumOfSquares(float[], int, int)} with the caller's scratch. */
  static double sumOfSquares(float[] a, int off, int n, Walk w) {
    int top = w.start(n);
    for (int at = off; ; ) {
      int m = w.length[top];
      if (m > BLOCK) {
        top = w.open(top);
        continue;
      }
      double v = blockSumOfSquares(a, at, m);
      at += m;
      for (; top > 0 && w.leftDone[top - 1]; top--) {
        v = w.doubles[top - 1] + v;
      }
      if (top == 0) {
        return v;
      }
      w.doubles[top - 1] = v;
      w.closeLeft(top);
    }
  }

  /** One block of {@link #sum} ({@code n <= 128}): below 8 elements in order, else 8 partial sums and the rest. */
  private static float blockSum(float[] a, int off, int n) {
    float res = 0f;
    int i = 0;
    if (n >= PARTIALS) {
      FloatVector r = FloatVector.fromArray(FLOATS, a, off);
      for (i = PARTIALS; i < n - (n % PARTIALS); i += PARTIALS) {
        r = r.add(FloatVector.fromArray(FLOATS, a, off + i));
      }
      res = ((r.lane(0) + r.lane(1)) + (r.lane(2) + r.lane(3))) + ((r.lane(4) + r.lane(5)) + (r.lane(6) + r.lane(7)));
    }
    for (; i < n; i++) {
      res += a[off + i];
    }
    return res;
  }

  /** One block of {@link #sumOfSquares}, as {@link #blockSum}. */
  private static double blockSumOfSquares(float[] a, int off, int n) {
    if (!WIDE_DOUBLES) {
      return blockSumOfSquaresScalar(a, off, n);
    }
    double res = 0.0;
    int i = 0;
    if (n >= PARTIALS) {
      DoubleVector x = (DoubleVector) FloatVector.fromArray(FLOATS, a, off).convertShape(F2D, DOUBLES, 0);
      DoubleVector r = x.mul(x);
      for (i = PARTIALS; i < n - (n % PARTIALS); i += PARTIALS) {
        x = (DoubleVector) FloatVector.fromArray(FLOATS, a, off + i).convertShape(F2D, DOUBLES, 0);
        r = r.add(x.mul(x));
      }
      res = ((r.lane(0) + r.lane(1)) + (r.lane(2) + r.lane(3))) + ((r.lane(4) + r.lane(5)) + (r.lane(6) + r.lane(7)));
    }
    for (; i < n; i++) {
      double x = a[off + i];
      res += x * x;
    }
    return res;
  }

  /** {@link #blockSumOfSquares} with 8 scalar partial sums, for CPUs without 512-bit vectors. */
  static double blockSumOfSquaresScalar(float[] a, int off, int n) {
    double res = 0.0;
    int i = 0;
    if (n >= PARTIALS) {
      double r0 = square(a[off]);
      double r1 = square(a[off + 1]);
      double r2 = square(a[off + 2]);
      double r3 = square(a[off + 3]);
      double r4 = square(a[off + 4]);
      double r5 = square(a[off + 5]);
      double r6 = square(a[off + 6]);
      double r7 = square(a[off + 7]);
      for (i = PARTIALS; i < n - (n % PARTIALS); i += PARTIALS) {
        int j = off + i;
        r0 += square(a[j]);
        r1 += square(a[j + 1]);
        r2 += square(a[j + 2]);
        r3 += square(a[j + 3]);
        r4 += square(a[j + 4]);
        r5 += square(a[j + 5]);
        r6 += square(a[j + 6]);
        r7 += square(a[j + 7]);
      }
      res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
    }
    for (; i < n; i++) {
      res += square(a[off + i]);
    }
    return res;
  }

  private static double square(float f) {
    double x = f;
    return x * x;
  }

  /** Where numpy splits a sum of {@code n > BLOCK} elements: half, rounded down to a multiple of 8. */
  static int half(int n) {
    int n2 = n / 2;
    return n2 - n2 % PARTIALS;
  }

  /**
   * Scratch (one per thread) for walking numpy's tree of blocks in a loop instead of by recursion: for each open node
   * from the root down, its length, whether its left half is summed, and that sum. A sum is {@code sum(left) +
   * sum(right)} down to blocks of at most {@link #BLOCK}; the walk meets the blocks in order and adds them as the
   * tree does. Why a loop: the JIT inlines a recursive method into itself, and with it a copy of the block's vector
   * code per call site; enough copies exhaust C2's node budget, and the vector operations past it are left boxed on
   * the heap (see {@link FusedUpdate}). The loop has one call site.
   */
  static final class Walk {
    /** Each level at least halves the length: from 2^31 down to a block is fewer levels than this. */
    private static final int DEPTH = 32;

    final int[] length = new int[DEPTH];
    final boolean[] leftDone = new boolean[DEPTH];
    final float[] floats = new float[DEPTH];
    final double[] doubles = new double[DEPTH];

    /** Starts a walk over {@code n} elements; returns the top of the stack (the root). */
    int start(int n) {
      length[0] = n;
      return 0;
    }

    /** Opens node {@code top} (longer than a block): its left half goes on top; returns the new top. */
    int open(int top) {
      leftDone[top] = false;
      length[top + 1] = half(length[top]);
      return top + 1;
    }

    /** The left half at {@code top} is summed (its sum stored in the parent's slot): its right half takes its place. */
    void closeLeft(int top) {
      leftDone[top - 1] = true;
      length[top] = length[top - 1] - half(length[top - 1]);
    }
  }
}

package io.vitfleet.protocol;

import java.util.Arrays;

/**
 * How one tensor keeps its second moment: factored into row and column statistics, or in full. The rule
 * (spec/vit.md): a tensor is factored if its rank is at least 2 and its second-largest dimension is at least
 * {@code minDimToFactor}; of a stable ascending sort of its dimensions, {@code d1} is the second to last axis and
 * {@code d0} the last (so on ties the later axis is {@code d0}). {@code v_row} is the mean over {@code d0} (shape: the
 * tensor without {@code d0}) and {@code v_col} the mean over {@code d1} (the tensor without {@code d1}).
 *
 * <p>For the loops, a factored tensor is seen as {@code [outer, p, between, q, inner]} in row-major order, where
 * {@code p} and {@code q} are the sizes of the first and the second factored axis ({@code pAxis < qAxis}). The mean
 * over the p-axis then has shape {@code [outer, between, q, inner]} and the mean over the q-axis
 * {@code [outer, p, between, inner]}, both row-major, exactly the numpy shapes without that axis.
 *
 * @param shape    the tensor's shape
 * @param factored whether the second moment is factored
 * @param d0       the largest axis (factored only, else -1)
 * @param d1       the second-largest axis (factored only, else -1)
 */
public record SecondMomentLayout(int[] shape, boolean factored, int d0, int d1) {

  public SecondMomentLayout {
    shape = shape.clone();
  }

  /** The layout the factoring rule gives a tensor of this shape. */
  public static SecondMomentLayout of(int[] shape, int minDimToFactor) {
    int rank = shape.length;
    if (rank < 2) {
      return new SecondMomentLayout(shape, false, -1, -1);
    }
    Integer[] order = new Integer[rank];
    for (int i = 0; i < rank; i++) {
      order[i] = i;
    }
    // Stable ascending sort by size: equal sizes keep axis order, so the later axis of a tie ranks higher.
    Arrays.sort(order, (x, y) -> Integer.compare(shape[x], shape[y]));
    int d1 = order[rank - 2];
    int d0 = order[rank - 1];
    if (shape[d1] < minDimToFactor) {
      return new SecondMomentLayout(shape, false, -1, -1);
    }
    return new SecondMomentLayout(shape, true, d0, d1);
  }

  @Override
  public int[] shape() {
    return shape.clone();
  }

  /** Elements of the tensor. */
  public long size() {
    long n = 1;
    for (int d : shape) {
      n *= d;
    }
    return n;
  }

  /** The first factored axis. */
  public int pAxis() {
    return Math.min(d0, d1);
  }

  /** The second factored axis. */
  public int qAxis() {
    return Math.max(d0, d1);
  }

  /** Product of the dimensions before the first factored axis. */
  public int outer() {
    return product(0, pAxis());
  }

  /** Size of the first factored axis. */
  public int p() {
    return shape[pAxis()];
  }

  /** Product of the dimensions between the two factored axes. */
  public int between() {
    return product(pAxis() + 1, qAxis());
  }

  /** Size of the second factored axis. */
  public int q() {
    return shape[qAxis()];
  }

  /** Product of the dimensions after the second factored axis. */
  public int inner() {
    return product(qAxis() + 1, shape.length);
  }

  /** True when {@code v_row} (the mean over {@code d0}) is the mean over the first factored axis. */
  public boolean rowIsMeanOverP() {
    return d0 < d1;
  }

  /** Elements of {@code v_row} (factored) or 0. */
  public int rowSize() {
    return factored ? (int) (size() / shape[d0]) : 0;
  }

  /** Elements of {@code v_col} (factored) or 0. */
  public int colSize() {
    return factored ? (int) (size() / shape[d1]) : 0;
  }

  /** Shape of {@code v_row}: the tensor without {@code d0}. */
  public int[] rowShape() {
    return without(d0);
  }

  /** Shape of {@code v_col}: the tensor without {@code d1}. */
  public int[] colShape() {
    return without(d1);
  }

  private int[] without(int axis) {
    if (!factored) {
      throw new IllegalStateException("tensor of shape " + Arrays.toString(shape) + " is not factored");
    }
    int[] s = new int[shape.length - 1];
    for (int i = 0, j = 0; i < shape.length; i++) {
      if (i != axis) {
        s[j++] = shape[i];
      }
    }
    return s;
  }

  private int product(int from, int to) {
    long n = 1;
    for (int i = from; i < to; i++) {
      n *= shape[i];
    }
    return (int) n;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof SecondMomentLayout l && Arrays.equals(l.shape, shape) && l.factored == factored
        && l.d0 == d0 && l.d1 == d1;
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(shape) * 31 + (factored ? 1 : 0) + 7 * d0 + 13 * d1;
  }

  @Override
  public String toString() {
    return factored ? "factored" + Arrays.toString(shape) + "(d0=" + d0 + ", d1=" + d1 + ")"
        : "full" + Arrays.toString(shape);
  }
}

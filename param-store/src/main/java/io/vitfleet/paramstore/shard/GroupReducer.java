package io.vitfleet.paramstore.shard;

/**
 * Sums one step's G accumulation-group gradient sums of each tensor a shard owns, in group order, exactly as the
 * one-process trainer does: {@code total = copy of group 0}, then {@code total[i] += group_g[i]} for g = 1 .. G-1, in
 * float32. Float addition is not associative, so that order is the contract that makes every plan give the same bits
 * (architecture.md, "Units of work").
 *
 * <p>Group sums arrive in whatever order the replicas finish. A group that arrives before its turn is held until the
 * groups before it are in; a group whose turn it is is added at once. So at most the totals and the early arrivals are
 * held, never all G sums of a tensor unless they arrive in reverse order. Not thread-safe: the shard actor owns it.
 */
final class GroupReducer {
  private final int[] sizes;
  private final int groups;
  /** Per tensor, the running total of groups [0, next[t]), or null before group 0. */
  private final float[][] totals;
  /** Per tensor, the next group to add. */
  private final int[] next;
  /** Per tensor and group, a sum that arrived before its turn. */
  private final float[][][] early;
  private final boolean[][] received;
  private int missing;

  /**
   * A reducer for tensors of the given element counts (shard-local order) and {@code groups} accumulation groups.
   */
  GroupReducer(int[] sizes, int groups) {
    if (groups < 1) {
      throw new IllegalArgumentException("a step has at least one accumulation group, got " + groups);
    }
    this.sizes = sizes.clone();
    this.groups = groups;
    this.totals = new float[sizes.length][];
    this.next = new int[sizes.length];
    this.early = new float[sizes.length][groups][];
    this.received = new boolean[sizes.length][groups];
    this.missing = sizes.length * groups;
  }

  int groups() {
    return groups;
  }

  /** Group sums still to come, over all tensors. */
  int missing() {
    return missing;
  }

  /** Whether every group of every tensor is in and added. */
  boolean complete() {
    return missing == 0;
  }

  /**
   * Takes group {@code group}'s sum of shard-local tensor {@code tensor}; the array is kept (as group 0's, it becomes
   * the total), so the caller must not reuse it. Returns null, or why the sum was refused (nothing changes then).
   */
  String add(int tensor, int group, float[] sum) {
    if (tensor < 0 || tensor >= sizes.length) {
      return "tensor " + tensor + " is not one of this shard's " + sizes.length;
    }
    if (group < 0 || group >= groups) {
      return "group " + group + " is outside the step's groups [0, " + groups + ")";
    }
    if (sum == null || sum.length != sizes[tensor]) {
      return "group " + group + " of tensor " + tensor + " has " + (sum == null ? "no data" : sum.length + " floats")
          + ", expected " + sizes[tensor];
    }
    if (received[tensor][group]) {
      return "group " + group + " of tensor " + tensor + " arrived twice; the second copy is ignored";
    }
    received[tensor][group] = true;
    missing--;
    if (group != next[tensor]) {
      early[tensor][group] = sum;
      return null;
    }
    accumulate(tensor, sum);
    while (next[tensor] < groups && early[tensor][next[tensor]] != null) {
      float[] held = early[tensor][next[tensor]];
      early[tensor][next[tensor]] = null;
      accumulate(tensor, held);
    }
    return null;
  }

  private void accumulate(int tensor, float[] sum) {
    if (next[tensor] == 0) {
      totals[tensor] = sum;
    } else {
      float[] total = totals[tensor];
      for (int i = 0; i < total.length; i++) {
        total[i] += sum[i];
      }
    }
    next[tensor]++;
  }

  /** The summed gradient of each tensor (shard-local order); only once {@link #complete()}. */
  float[][] totals() {
    if (!complete()) {
      throw new IllegalStateException(missing + " group sums are still missing");
    }
    return totals.clone();
  }
}

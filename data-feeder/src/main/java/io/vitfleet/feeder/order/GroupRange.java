package io.vitfleet.feeder.order;

import io.vitfleet.feeder.BatchPlan;

/**
 * The accumulation groups [first, end) one data-parallel replica processes in a step. Replicas take contiguous runs
 * of groups, so a replica's microbatches are a contiguous part of the step and the step's stream is the replicas'
 * parts in replica order, whatever their number.
 */
public record GroupRange(int first, int end) {

  public GroupRange {
    if (first < 0 || end < first) {
      throw new IllegalArgumentException("group range must satisfy 0 <= first <= end, not [" + first + ", " + end
          + ")");
    }
  }

  /**
   * The even split: replica r of D gets groups [floor(r*G/D), floor((r+1)*G/D)), so shares differ by at most one
   * group when D does not divide G.
   *
   * @throws IllegalArgumentException unless 1 <= D <= G and 0 <= r < D
   */
  public static GroupRange of(BatchPlan plan, int replica, int replicas) {
    int groups = plan.groups();
    if (replicas < 1 || replicas > groups) {
      throw new IllegalArgumentException("data-parallel replicas D must be in 1..G = " + groups + ", not " + replicas);
    }
    if (replica < 0 || replica >= replicas) {
      throw new IllegalArgumentException("replica must be in 0.." + (replicas - 1) + ", not " + replica);
    }
    return new GroupRange((int) ((long) replica * groups / replicas), (int) ((long) (replica + 1) * groups / replicas));
  }

  /** Groups in the range. */
  public int size() {
    return end - first;
  }

  /** The first microbatch of the range. */
  public int firstMicrobatch(BatchPlan plan) {
    return first * plan.microbatchesPerGroup();
  }

  /** One past the last microbatch of the range. */
  public int endMicrobatch(BatchPlan plan) {
    return end * plan.microbatchesPerGroup();
  }
}

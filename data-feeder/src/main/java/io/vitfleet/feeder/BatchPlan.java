package io.vitfleet.feeder;

import java.util.Objects;

/**
 * The job's units of work (architecture.md, "Units of work"): a step takes the next {@code globalBatch} (B) samples
 * of the global stream, split into K = B / b microbatches of {@code microbatch} (b) samples, and the microbatches into
 * {@code groups} (G) accumulation groups of K / G consecutive microbatches. G is the most data-parallel replicas a job
 * can use; gradients are summed in microbatch order within a group and in group order across groups, so the result
 * does not depend on how many replicas share the groups.
 *
 * <p>Positions in the global stream: step t covers [t*B, (t+1)*B); slot j of microbatch k of step t is position
 * t*B + k*b + j; group g holds microbatches [g*K/G, (g+1)*K/G). Which sample sits at a position is
 * {@link SampleSchedule}'s business.
 */
public record BatchPlan(int globalBatch, int microbatch, int groups) {

  /** @throws IllegalArgumentException naming the setting when B, b, G do not split evenly */
  public BatchPlan {
    if (globalBatch < 1) {
      throw new IllegalArgumentException("global batch size B must be at least 1, not " + globalBatch);
    }
    if (microbatch < 1 || microbatch > globalBatch) {
      throw new IllegalArgumentException("microbatch size b must be in 1..B = " + globalBatch + ", not " + microbatch);
    }
    if (globalBatch % microbatch != 0) {
      throw new IllegalArgumentException("global batch size B = " + globalBatch + " is not a multiple of the"
          + " microbatch size b = " + microbatch + "; choose a b that divides B, e.g. " + nearDivisors(globalBatch,
          microbatch, "b"));
    }
    int k = globalBatch / microbatch;
    if (groups < 1 || groups > k) {
      throw new IllegalArgumentException("groups G must be in 1..K = " + k + " (the microbatches per step, B / b = "
          + globalBatch + " / " + microbatch + "), not " + groups);
    }
    if (k % groups != 0) {
      throw new IllegalArgumentException("the K = " + k + " microbatches per step (B / b = " + globalBatch + " / "
          + microbatch + ") do not split into groups G = " + groups + "; choose a G that divides K, e.g. "
          + nearDivisors(k, groups, "G"));
    }
  }

  /** K = B / b: microbatches per step. */
  public int microbatches() {
    return globalBatch / microbatch;
  }

  /** K / G: consecutive microbatches per accumulation group. */
  public int microbatchesPerGroup() {
    return globalBatch / microbatch / groups;
  }

  /** t*B: the first global position of step t. */
  public long firstPosition(long step) {
    if (step < 0) {
      throw new IllegalArgumentException("step must be non-negative, not " + step);
    }
    return Math.multiplyExact(step, (long) globalBatch);
  }

  /** t*B + k*b: the first global position of microbatch k of step t. */
  public long firstPosition(long step, int microbatch) {
    Objects.checkIndex(microbatch, microbatches());
    return firstPosition(step) + (long) microbatch * this.microbatch;
  }

  /** t*B + k*b + j: the global position of slot j of microbatch k of step t. */
  public long position(long step, int microbatch, int slot) {
    Objects.checkIndex(slot, this.microbatch);
    return firstPosition(step, microbatch) + slot;
  }

  /** The group that microbatch k belongs to. */
  public int groupOf(int microbatch) {
    Objects.checkIndex(microbatch, microbatches());
    return microbatch / microbatchesPerGroup();
  }

  /** g*K/G: the first microbatch of group g. */
  public int firstMicrobatch(int group) {
    Objects.checkIndex(group, groups);
    return group * microbatchesPerGroup();
  }

  /** (g+1)*K/G: one past the last microbatch of group g. */
  public int endMicrobatch(int group) {
    return firstMicrobatch(group) + microbatchesPerGroup();
  }

  /** N / B: steps per epoch of a data set of {@code datasetSize} samples (an epoch need not end on a step). */
  public double stepsPerEpoch(long datasetSize) {
    return (double) datasetSize / globalBatch;
  }

  /** The divisors of n nearest below and above wanted, for "choose ... e.g." messages. */
  private static String nearDivisors(int n, int wanted, String name) {
    int below = Math.min(wanted, n);
    while (n % below != 0) {
      below--;
    }
    int above = Math.max(wanted, 1);
    while (above < n && n % above != 0) {
      above++;
    }
    return below == above ? name + " = " + below : name + " = " + below + " or " + name + " = " + above;
  }
}

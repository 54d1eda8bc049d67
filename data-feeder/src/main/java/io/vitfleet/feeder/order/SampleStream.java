package io.vitfleet.feeder.order;

import io.vitfleet.feeder.BatchPlan;
import io.vitfleet.feeder.BatchSlot;
import io.vitfleet.feeder.SampleSchedule;
import java.util.Objects;

/**
 * The global sample stream of a job, cut into its units of work: epoch after epoch of an {@link EpochPermutation},
 * so global position p holds {@code order.index(seed, p / N, p % N)}, and step t, microbatch k, slot j is position
 * t*B + k*b + j ({@link BatchPlan}). This is {@link SampleSchedule} over any epoch order; over
 * {@link EpochPermutation#feistel} it gives exactly SampleSchedule's samples.
 *
 * <p>A pure function of (order, seed, plan; step, microbatch, slot): the samples of a step do not depend on how many
 * replicas share its groups ({@link GroupRange}) nor on which feeder computes them, and a feeder restarted at the
 * committed step continues the stream exactly.
 */
public final class SampleStream {
  private final EpochPermutation order;
  private final long seed;
  private final BatchPlan plan;

  /**
   * @param order the epoch order of the data set (N = order.size())
   * @param seed the data-order seed of the job
   */
  public SampleStream(EpochPermutation order, long seed, BatchPlan plan) {
    this.order = Objects.requireNonNull(order, "order");
    this.seed = seed;
    this.plan = Objects.requireNonNull(plan, "plan");
  }

  public EpochPermutation order() {
    return order;
  }

  public long seed() {
    return seed;
  }

  public BatchPlan plan() {
    return plan;
  }

  /** N. */
  public long datasetSize() {
    return order.size();
  }

  /** The sample at global position {@code position} (p >= 0). */
  public long sampleAt(long position) {
    if (position < 0) {
      throw new IllegalArgumentException("global position must be non-negative, not " + position);
    }
    long n = order.size();
    return order.index(seed, position / n, position % n);
  }

  /** The epoch of global position {@code position}. */
  public long epochAt(long position) {
    if (position < 0) {
      throw new IllegalArgumentException("global position must be non-negative, not " + position);
    }
    return position / order.size();
  }

  /** The sample in slot {@code slot} of microbatch {@code microbatch} of step {@code step}. */
  public long sample(long step, int microbatch, int slot) {
    return sampleAt(plan.position(step, microbatch, slot));
  }

  /** The epoch of step t's first sample. */
  public long epochOf(long step) {
    return plan.firstPosition(step) / order.size();
  }

  /**
   * Writes the samples of microbatch {@code microbatch} of step {@code step} into {@code indices[0 .. b)} and their
   * epochs into {@code epochs[0 .. b)} (a microbatch may straddle an epoch boundary; augmentation keys need both).
   */
  public void microbatch(long step, int microbatch, long[] indices, long[] epochs) {
    int b = plan.microbatch();
    if (indices.length < b || epochs.length < b) {
      throw new IllegalArgumentException("microbatch buffers hold " + indices.length + " indices and " + epochs.length
          + " epochs; a microbatch has b = " + b);
    }
    long first = plan.firstPosition(step, microbatch);
    long n = order.size();
    for (int slot = 0; slot < b; slot++) {
      long p = first + slot;
      epochs[slot] = p / n;
      indices[slot] = order.index(seed, p / n, p % n);
    }
  }

  /** Where sample {@code index} of epoch {@code epoch} lands: the inverse of {@link #sample}. */
  public BatchSlot locate(long epoch, long index) {
    if (epoch < 0) {
      throw new IllegalArgumentException("epoch must be non-negative, not " + epoch);
    }
    long position = Math.addExact(Math.multiplyExact(epoch, order.size()), order.position(seed, epoch, index));
    long b = plan.globalBatch();
    long inStep = position % b;
    return new BatchSlot(position / b, (int) (inStep / plan.microbatch()), (int) (inStep % plan.microbatch()));
  }

  @Override
  public String toString() {
    return "SampleStream[" + order + ", seed=" + seed + ", " + plan + "]";
  }
}

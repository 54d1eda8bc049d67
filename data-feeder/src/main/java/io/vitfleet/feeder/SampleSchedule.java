package io.vitfleet.feeder;

/**
 * Which sample sits where in the units of work: the global stream is epoch after epoch of {@link EpochOrder}, so the
 * sample at global position p is {@code order.index(seed, p / N, p % N)}, and {@link BatchPlan} cuts the stream into
 * steps, microbatches and slots. A step may straddle two epochs (or more, if B > N); every epoch still has each sample
 * exactly once.
 *
 * <p>A pure function of (N, seed, B, b, G; step, microbatch, slot): a feeder holding this object needs nothing but
 * the committed step to continue, whichever hosts come and go.
 */
public final class SampleSchedule {
  private final EpochOrder order;
  private final long seed;
  private final BatchPlan plan;

  /**
   * @param datasetSize N, the number of samples in one epoch
   * @param seed the data-order seed of the job
   */
  public SampleSchedule(long datasetSize, long seed, BatchPlan plan) {
    this.order = new EpochOrder(datasetSize);
    this.seed = seed;
    this.plan = plan;
  }

  public long datasetSize() {
    return order.size();
  }

  public long seed() {
    return seed;
  }

  public BatchPlan plan() {
    return plan;
  }

  /** The sample at global position {@code position} (p >= 0). */
  public long sampleAt(long position) {
    if (position < 0) {
      throw new IllegalArgumentException("global position must be non-negative, not " + position);
    }
    long n = order.size();
    return order.index(seed, position / n, position % n);
  }

  /** The sample in slot {@code slot} of microbatch {@code microbatch} of step {@code step}. */
  public long sample(long step, int microbatch, int slot) {
    return sampleAt(plan.position(step, microbatch, slot));
  }

  /** The epoch of step t's first sample. */
  public long epochOf(long step) {
    return plan.firstPosition(step) / order.size();
  }

  /** The epoch of step t's last sample: more than {@link #epochOf} when the step crosses an epoch boundary. */
  public long lastEpochOf(long step) {
    return (plan.firstPosition(step) + plan.globalBatch() - 1) / order.size();
  }

  /** N / B. */
  public double stepsPerEpoch() {
    return plan.stepsPerEpoch(order.size());
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
    return "SampleSchedule[N=" + order.size() + ", seed=" + seed + ", " + plan + "]";
  }
}

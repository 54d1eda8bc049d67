package io.vitfleet.feeder;

/**
 * The feeder's training path: fills caller-owned buffers with microbatch k of step t, exactly as
 * {@link SampleSchedule} places the samples, normalised by a {@link Normalization}. Stateless beyond its
 * configuration, so any feeder (or a restarted one) produces the same bytes for the same (step, microbatch), and a
 * step's microbatches can be produced in any order or by several feeders.
 */
public final class MicrobatchSource {
  private final Batcher batcher;
  private final SampleSchedule schedule;
  private final BatchPlan plan;

  /** @throws IllegalArgumentException if the schedule was made for a data set of another size */
  public MicrobatchSource(ImageDataset dataset, Normalization normalization, SampleSchedule schedule) {
    if (schedule.datasetSize() != dataset.size()) {
      throw new IllegalArgumentException("sample schedule is for " + schedule.datasetSize() + " samples but "
          + dataset.name() + " has " + dataset.size());
    }
    this.batcher = new Batcher(dataset, normalization);
    this.schedule = schedule;
    this.plan = schedule.plan();
  }

  public SampleSchedule schedule() {
    return schedule;
  }

  /** b * rows * cols * channels: the length of the images buffer {@link #fill} needs. */
  public int imageFloatsPerMicrobatch() {
    return plan.microbatch() * batcher.floatsPerImage();
  }

  /** b: the length of the labels buffer {@link #fill} needs. */
  public int labelsPerMicrobatch() {
    return plan.microbatch();
  }

  /**
   * Writes microbatch {@code microbatch} of step {@code step}: images NHWC into {@code images[0 ..
   * imageFloatsPerMicrobatch())}, labels into {@code labels[0 .. b)}.
   */
  public void fill(long step, int microbatch, float[] images, int[] labels) {
    int b = plan.microbatch();
    batcher.requireCapacity(b, images, labels);
    long first = plan.firstPosition(step, microbatch);
    for (int slot = 0; slot < b; slot++) {
      batcher.put((int) schedule.sampleAt(first + slot), slot, images, labels);
    }
  }

  /** Writes the sample indices of microbatch {@code microbatch} of step {@code step} into {@code out[0 .. b)}. */
  public void indices(long step, int microbatch, long[] out) {
    long first = plan.firstPosition(step, microbatch);
    for (int slot = 0; slot < plan.microbatch(); slot++) {
      out[slot] = schedule.sampleAt(first + slot);
    }
  }
}

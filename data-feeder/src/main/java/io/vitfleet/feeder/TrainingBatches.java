package io.vitfleet.feeder;

import java.util.Objects;

/**
 * What a job trains on: microbatch k of step t, normalised and augmented, as a pure function of (data set,
 * normalisation, seed, units of work, augmentation; t, k). The one-process trainer and the cluster's feeder both call
 * {@link #fill}, so a microbatch has the same bytes whichever of them produced it, and a restarted feeder needs
 * nothing but the step to continue.
 *
 * <p>Not thread-safe: the augmentation flips and shifts through one scratch image. Use one instance per thread.
 */
public final class TrainingBatches {
  private final MicrobatchSource source;
  private final FlipShiftAugmentation augmentation;
  private final BatchPlan plan;
  private final long seed;
  private final long datasetSize;
  private final int rows;
  private final int cols;
  private final int channels;
  private final int floatsPerImage;

  /**
   * @param train the training split; its samples are placed by a {@link SampleSchedule} of {@code seed} and
   *     {@code plan}
   * @param seed the job's seed: of the data order and of the augmentation
   * @param augmentation applied in place to every image after normalisation, keyed by (seed, epoch, sample index)
   */
  public TrainingBatches(ImageDataset train, Normalization normalization, long seed, BatchPlan plan,
                         FlipShiftAugmentation augmentation) {
    this.source = new MicrobatchSource(train, normalization, new SampleSchedule(train.size(), seed, plan));
    this.augmentation = Objects.requireNonNull(augmentation, "augmentation");
    this.plan = plan;
    this.seed = seed;
    this.datasetSize = train.size();
    this.rows = train.rows();
    this.cols = train.cols();
    this.channels = train.channels();
    this.floatsPerImage = train.pixelsPerImage();
  }

  /**
   * The job's microbatches as every vitfleet process builds them (the one-process trainer and the cluster's feeder
   * alike): {@code train} normalised by {@code normalization}, then flipped and shifted with the uncovered border
   * filled with the normalised value of pixel 0 (the background).
   *
   * @param maxShift the job's {@code data.augment.max_shift}
   * @param flip the job's {@code data.augment.flip}
   */
  public static TrainingBatches of(ImageDataset train, Normalization normalization, long seed, BatchPlan plan,
                                   int maxShift, boolean flip) {
    return new TrainingBatches(train, normalization, seed, plan, new FlipShiftAugmentation(train.rows(), train.cols(),
        train.channels(), maxShift, flip, normalization.apply(0)));
  }

  /** B, b and G of the job. */
  public BatchPlan plan() {
    return plan;
  }

  public long seed() {
    return seed;
  }

  /** Where each sample of the stream sits (step, microbatch, slot). */
  public SampleSchedule schedule() {
    return source.schedule();
  }

  /** b * H * W * C: the length of the images buffer {@link #fill} needs. */
  public int imageFloatsPerMicrobatch() {
    return source.imageFloatsPerMicrobatch();
  }

  /** b: the length of the labels buffer {@link #fill} needs. */
  public int labelsPerMicrobatch() {
    return source.labelsPerMicrobatch();
  }

  /** H: image rows. */
  public int rows() {
    return rows;
  }

  /** W: image columns. */
  public int cols() {
    return cols;
  }

  /** C: image channels. */
  public int channels() {
    return channels;
  }

  /** [b, H, W, C]: the shape of one microbatch's images. */
  public int[] imageShape() {
    return new int[] {plan.microbatch(), rows, cols, channels};
  }

  /**
   * Writes microbatch {@code microbatch} of step {@code step}: normalised, augmented images NHWC into {@code images[0
   * .. imageFloatsPerMicrobatch())}, labels into {@code labels[0 .. b)}.
   */
  public void fill(long step, int microbatch, float[] images, int[] labels) {
    source.fill(step, microbatch, images, labels);
    if (augmentation.isIdentity()) {
      return;
    }
    for (int slot = 0; slot < plan.microbatch(); slot++) {
      long position = plan.position(step, microbatch, slot);
      long epoch = position / datasetSize;
      long index = source.schedule().sampleAt(position);
      augmentation.apply(seed, epoch, index, images, slot * floatsPerImage);
    }
  }
}

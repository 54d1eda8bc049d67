package io.vitfleet.feeder.stream;

import io.vitfleet.feeder.BatchPlan;
import io.vitfleet.feeder.augment.DecodePool;
import io.vitfleet.feeder.augment.SampleFailure;
import io.vitfleet.feeder.order.SampleStream;
import java.util.List;
import java.util.Objects;

/**
 * The feeder's training path for encoded data: microbatch k of step t is the samples {@link SampleStream} puts there,
 * read from an {@link EncodedDataset}, decoded and augmented by a {@link DecodePool} with keys of (seed, epoch,
 * index). A pure function of (step, microbatch) given the configuration: a restarted feeder, or another one, produces
 * the same bytes.
 */
public final class AugmentedMicrobatches {
  private final SampleStream stream;
  private final EncodedDataset data;
  private final DecodePool pool;
  private final long seed;
  private final BatchPlan plan;
  private final byte[][] encoded;
  private final long[] epochs;

  /** @param seed the augmentation seed (the job's seed: keys are salted apart from the order's) */
  public AugmentedMicrobatches(SampleStream stream, EncodedDataset data, DecodePool pool, long seed) {
    if (stream.datasetSize() != data.size()) {
      throw new IllegalArgumentException("the sample stream is for " + stream.datasetSize() + " samples but " + data
          + " has " + data.size());
    }
    this.stream = stream;
    this.data = Objects.requireNonNull(data, "data");
    this.pool = Objects.requireNonNull(pool, "pool");
    this.seed = seed;
    this.plan = stream.plan();
    this.encoded = new byte[plan.microbatch()][];
    this.epochs = new long[plan.microbatch()];
  }

  public BatchPlan plan() {
    return plan;
  }

  /** b * S * S * C: the floats of one microbatch's images. */
  public int imageFloats() {
    return plan.microbatch() * pool.spec().floatsPerImage();
  }

  /**
   * Writes microbatch {@code microbatch} of step {@code step}: images NHWC into {@code images[0 .. imageFloats())},
   * labels and sample indices into {@code labels[0 .. b)} and {@code indices[0 .. b)}. Not for concurrent calls (it
   * reuses its buffers; the pool parallelises within the microbatch).
   *
   * @return the samples that could not be decoded (their images zero-filled)
   */
  public synchronized List<SampleFailure> fill(long step, int microbatch, float[] images, int[] labels,
                                               long[] indices) {
    int b = plan.microbatch();
    stream.microbatch(step, microbatch, indices, epochs);
    for (int slot = 0; slot < b; slot++) {
      encoded[slot] = data.encoded(indices[slot]);
      labels[slot] = data.label(indices[slot]);
    }
    return pool.augment(encoded, seed, epochs, indices, b, images);
  }
}

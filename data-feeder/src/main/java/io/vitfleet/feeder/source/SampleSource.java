package io.vitfleet.feeder.source;

/**
 * A data set the feeder can stream from: N samples addressed by index in [0, N), each an image and a label in [0,
 * classes). Implementations: {@link io.vitfleet.feeder.tfrecord.TfRecordDataset} (TFRecord shards on disk) and
 * {@link io.vitfleet.feeder.synthetic.SyntheticDataset} (sample i generated from i, for any N).
 *
 * <p>Contract: {@link #read} is thread-safe, never throws for bad data (it answers an invalid {@link SampleRead} with
 * the reason, file and offset), and for the same index always answers the same bytes as long as the files do not
 * change. It throws only for programming errors (an index outside [0, N)), after {@link #close}, or when the
 * reading thread is interrupted.
 *
 * <p>The shards exist for read locality: samples of one shard are stored together, so an epoch order that visits
 * shards in turn (io.vitfleet.feeder.order.ShardedEpochOrder takes {@link #shardSizes()}) reads files sequentially.
 */
public interface SampleSource extends AutoCloseable {
  /** N, the number of samples. Fixed for the life of the source, whatever happens to the files. */
  long size();

  /** The number of classes: every valid sample's label is in [0, classes). */
  int classes();

  /**
   * Samples per shard in index order: shard s holds the indices after those of shards before it; the sizes sum to
   * {@link #size()}. Sources without files report virtual shards of a fixed size.
   */
  long[] shardSizes();

  /** The shape of every decoded image if the source guarantees one, else null (images of mixed sizes). */
  ImageShape imageShape();

  /**
   * Reads sample {@code index}.
   *
   * @param index in [0, size())
   * @throws IndexOutOfBoundsException if index is outside [0, size())
   * @throws java.io.UncheckedIOException if the calling thread is interrupted during the read (a cancelled read is
   *     not bad data, so it is not reported as an invalid sample)
   */
  SampleRead read(long index);

  /** What the source is, for messages: a folder and split, or a synthetic description. */
  String describe();

  /** Releases open files; reads after close throw IllegalStateException. */
  @Override
  void close();
}

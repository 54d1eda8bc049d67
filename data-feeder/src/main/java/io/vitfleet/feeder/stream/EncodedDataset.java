package io.vitfleet.feeder.stream;

/**
 * A data set of encoded images (JPEG or PNG bytes, as a TFRecord shard stores them) with labels, read by sample
 * index: what the augmenting feeder decodes. Implementations must be safe for concurrent reads and return the same
 * bytes for an index every time.
 */
public interface EncodedDataset {

  /** N: the number of samples. */
  long size();

  /** Labels are in [0, classes). */
  int classes();

  /** The encoded image of sample {@code index} (in [0, N)). */
  byte[] encoded(long index);

  /** The label of sample {@code index}. */
  int label(long index);
}

/**
 * TFRecord data sets: the framing ({@link io.vitfleet.feeder.tfrecord.TfRecordFormat}), one file's reader and writer
 * ({@link io.vitfleet.feeder.tfrecord.TfRecordFile}, {@link io.vitfleet.feeder.tfrecord.TfRecordWriter}) with its
 * offsets index ({@link io.vitfleet.feeder.tfrecord.RecordIndex}), {@code tf.train.Example} in the TFDS convention
 * ({@link io.vitfleet.feeder.tfrecord.TfExample}), and a sharded split of a data set folder as a
 * {@link io.vitfleet.feeder.source.SampleSource} ({@link io.vitfleet.feeder.tfrecord.TfRecordDataset}, written by
 * {@link io.vitfleet.feeder.tfrecord.ShardedDatasetWriter}, described by
 * {@link io.vitfleet.feeder.tfrecord.DatasetMetadata}).
 *
 * <p>For the feeder: open a split with {@code TfRecordDataset.open(dir, split, warnings)}, give
 * {@code shardSizes()} to the epoch order, and call {@code read(i)} from any thread; it never throws for bad data
 * (the status says what is wrong, with file and offset). Wrap it in
 * {@link io.vitfleet.feeder.ledger.ValidSampleReader} to get the corrupt-sample rule applied.
 */
package io.vitfleet.feeder.tfrecord;

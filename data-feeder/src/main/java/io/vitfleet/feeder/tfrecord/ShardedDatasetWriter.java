package io.vitfleet.feeder.tfrecord;

import io.vitfleet.feeder.source.ImageFormat;
import io.vitfleet.feeder.source.ImageShape;
import java.io.Closeable;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes one split of a data set as TFDS-style shards ({@link ShardName}) of {@code tf.train.Example} records
 * ({@link TfExample}), each with its {@link RecordIndex}, then records the split in {@link DatasetMetadata}. The
 * number of examples is fixed up front so that the shards are balanced: shard k holds examples [k N / S, (k+1) N / S)
 * in the order they are added.
 *
 * <p>Shard files of the same data set name and split left from an earlier import (perhaps with another shard count)
 * are deleted first, and the split is dropped from the metadata until {@link #finish}, so a folder never mixes two
 * imports of one split and an import that fails half-way leaves no metadata pointing at its partial shards.
 */
public final class ShardedDatasetWriter implements Closeable {
  private final Path dir;
  private final String name;
  private final String split;
  private final int shards;
  private final long examples;
  private final List<String> classes;
  private final long[] classCounts;
  private final List<DatasetMetadata.Shard> written = new ArrayList<>();
  private TfRecordWriter current;
  private long added;
  private ImageFormat encoding;
  private boolean mixedEncoding;
  private ImageShape shape;
  private boolean mixedShape;

  /**
   * @param dir the data set folder (created if needed)
   * @param name the data set name in the shard file names, e.g. fashion_mnist
   * @param split e.g. train or test
   * @param shards S, 1 to examples
   * @param examples N, exactly how many {@link #add} calls will follow
   * @param classes class names; label i names classes[i]
   */
  public ShardedDatasetWriter(Path dir, String name, String split, int shards, long examples, List<String> classes)
      throws IOException {
    ShardName.requireValidDataset(name);
    ShardName.requireValidSplit(split);
    if (examples < 1) {
      throw new IllegalArgumentException("a split needs at least one example, not " + examples);
    }
    if (shards < 1 || shards > examples || shards > 99_999) {
      throw new IllegalArgumentException("--shards must be in 1.." + Math.min(examples, 99_999) + " for " + examples
          + " examples, not " + shards);
    }
    if (classes.isEmpty()) {
      throw new IllegalArgumentException("a data set needs at least one class");
    }
    this.dir = dir;
    this.name = name;
    this.split = split;
    this.shards = shards;
    this.examples = examples;
    this.classes = List.copyOf(classes);
    this.classCounts = new long[classes.size()];
    Files.createDirectories(dir);
    deleteEarlierShards();
  }

  private void deleteEarlierShards() throws IOException {
    List<String> old = new ArrayList<>();
    DatasetMetadata metadata = DatasetMetadata.read(dir).orElse(null);
    DatasetMetadata.Split previous = metadata == null ? null : metadata.splits().get(split);
    if (previous != null) {
      previous.shards().forEach(s -> old.add(s.file()));
      metadata.without(split).write(dir); // an import that fails half-way leaves no metadata naming deleted shards
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
      for (Path f : files) {
        ShardName shard = ShardName.parse(f.getFileName().toString());
        if (shard != null && shard.dataset().equals(name) && shard.split().equals(split)) {
          old.add(f.getFileName().toString());
        }
      }
    }
    for (String file : old) {
      Path path = dir.resolve(file);
      Files.deleteIfExists(path);
      Files.deleteIfExists(RecordIndex.pathOf(path));
    }
  }

  /**
   * Appends one example.
   *
   * @param image PNG or JPEG bytes
   * @param label in [0, classes)
   */
  public void add(byte[] image, int label) throws IOException {
    if (added == examples) {
      throw new IllegalStateException("all " + examples + " examples of split " + split + " are written already");
    }
    if (label < 0 || label >= classes.size()) {
      throw new IllegalArgumentException("label " + label + " is outside 0.." + (classes.size() - 1));
    }
    ImageFormat format = ImageFormat.sniff(image);
    if (format != ImageFormat.PNG && format != ImageFormat.JPEG) {
      throw new IllegalArgumentException("example " + added + " is not a PNG or JPEG image");
    }
    track(format, ImageFormat.shapeOf(image));
    int shard = (int) (added * shards / examples);
    long shardStart = (shard * examples + shards - 1) / shards;
    if (added == shardStart) {
      finishShard();
      current = TfRecordWriter.create(dir.resolve(new ShardName(name, split, shard, shards).fileName()));
    }
    current.write(TfExample.encode(image, label));
    classCounts[label]++;
    added++;
  }

  private void track(ImageFormat format, ImageShape imageShape) {
    if (encoding == null) {
      encoding = format;
      shape = imageShape;
      return;
    }
    mixedEncoding |= format != encoding;
    mixedShape |= imageShape == null || !imageShape.equals(shape);
  }

  private void finishShard() throws IOException {
    if (current != null) {
      current.close();
      written.add(new DatasetMetadata.Shard(current.file().getFileName().toString(), current.records(),
          current.bytes()));
      current = null;
    }
  }

  /**
   * Closes the last shard and records the split in the folder's metadata (merged with its other splits).
   *
   * @throws IllegalStateException if fewer examples than announced were added
   */
  public DatasetMetadata.Split finish() throws IOException {
    if (added != examples) {
      throw new IllegalStateException("split " + split + " announced " + examples + " examples but got " + added);
    }
    finishShard();
    List<Long> counts = new ArrayList<>();
    for (long c : classCounts) {
      counts.add(c);
    }
    DatasetMetadata.Split result = new DatasetMetadata.Split(name, split, examples, classes, counts,
        mixedShape ? null : shape, mixedEncoding ? "mixed" : encoding.label(), written);
    DatasetMetadata.read(dir).orElse(DatasetMetadata.empty()).with(result).write(dir);
    return result;
  }

  /** Closes an unfinished shard without writing metadata (after a failure). */
  @Override
  public void close() throws IOException {
    if (current != null) {
      current.close();
      current = null;
    }
  }
}

package io.vitfleet.feeder.tfrecord;

import io.vitfleet.feeder.source.ImageShape;
import io.vitfleet.feeder.source.SampleRead;
import io.vitfleet.feeder.synthetic.SyntheticDataset;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Small TFRecord data sets for tests, whose samples are known: synthetic 8x8 PNGs with labels in 0..9. */
final class TfRecordFixtures {
  static final int CLASSES = 10;
  static final SyntheticDataset SOURCE =
      new SyntheticDataset(1000, CLASSES, new ImageShape(8, 8, 1), SyntheticDataset.Encoding.PNG, 0);

  private TfRecordFixtures() {}

  static List<String> classNames() {
    List<String> names = new ArrayList<>();
    for (int c = 0; c < CLASSES; c++) {
      names.add("class" + c);
    }
    return names;
  }

  /** Writes samples 0..n-1 of {@link #SOURCE} as split {@code split} of data set "toy" in {@code shards} shards. */
  static DatasetMetadata.Split write(Path dir, String split, int n, int shards) {
    try (ShardedDatasetWriter writer = new ShardedDatasetWriter(dir, "toy", split, shards, n, classNames())) {
      for (int i = 0; i < n; i++) {
        SampleRead sample = SOURCE.read(i);
        writer.add(sample.image(), sample.label());
      }
      return writer.finish();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** The path of shard {@code shard} of {@code shards} of split {@code split} of "toy". */
  static Path shard(Path dir, String split, int shard, int shards) {
    return dir.resolve(new ShardName("toy", split, shard, shards).fileName());
  }
}

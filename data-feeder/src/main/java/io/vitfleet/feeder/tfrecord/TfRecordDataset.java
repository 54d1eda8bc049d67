package io.vitfleet.feeder.tfrecord;

import io.vitfleet.feeder.DatasetException;
import io.vitfleet.feeder.source.ImageFormat;
import io.vitfleet.feeder.source.ImageShape;
import io.vitfleet.feeder.source.SampleRead;
import io.vitfleet.feeder.source.SampleSource;
import io.vitfleet.feeder.source.SampleStatus;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Consumer;

/**
 * One split of a TFRecord data set folder as a {@link SampleSource}: the TFDS-style shards {@code
 * NAME-SPLIT.tfrecord-IIIII-of-NNNNN} of {@code tf.train.Example} records ({@link TfExample}), each read through its
 * {@link RecordIndex}. Global sample i is record i - start(s) of the shard s whose range [start(s), start(s+1)) holds
 * it, shards laid end to end in shard order (a binary search over the cumulative counts; memory O(shards)).
 *
 * <p>N and the shard sizes come from the folder's {@link DatasetMetadata} when it has one, so they stay fixed when a
 * shard goes missing or is cut short: the missing samples read as invalid, with the file and offset, and the epoch
 * order is unchanged. Without metadata the shards are found by name, their sizes taken from their indexes and the
 * classes counted by reading every label (fine for small data sets; run {@code vitfleet dataset import} to write
 * metadata).
 *
 * <p>A read answers VALID with the image bytes (JPEG or PNG, as stored) and the label, or the first problem found:
 * MISSING_SHARD, TRUNCATED, BAD_RECORD_HEADER, BAD_DATA_CRC, IO_ERROR ({@link TfRecordFile}), BAD_EXAMPLE,
 * MISSING_FEATURE ({@link TfExample}), LABEL_OUT_OF_RANGE. Whether the image decodes is checked later, by the
 * corrupt-sample rule's {@link io.vitfleet.feeder.ledger.ImageValidator}. Shards are opened on first read and stay
 * open until {@link #close}. Thread-safe.
 */
public final class TfRecordDataset implements SampleSource {
  private final Path dir;
  private final String name;
  private final String split;
  private final List<Path> shardFiles;
  /** start[s] = first global index of shard s; start[shards] = N. */
  private final long[] start;
  private final List<String> classNames;
  private final ImageShape imageShape;
  private final Consumer<String> warnings;
  /** Per shard: null (not opened yet), a TfRecordFile, or a SampleRead template for a shard that cannot be opened. */
  private final AtomicReferenceArray<Object> opened;
  /** Per shard: 1 once a failure to open it was reported to the warnings. */
  private final AtomicIntegerArray failureWarned;
  private volatile boolean closed;

  private TfRecordDataset(Path dir, String name, String split, List<Path> shardFiles, long[] sizes,
      List<String> classNames, ImageShape imageShape, Consumer<String> warnings) {
    this.dir = dir;
    this.name = name;
    this.split = split;
    this.shardFiles = List.copyOf(shardFiles);
    this.start = new long[sizes.length + 1];
    for (int s = 0; s < sizes.length; s++) {
      start[s + 1] = start[s] + sizes[s];
    }
    this.classNames = List.copyOf(classNames);
    this.imageShape = imageShape;
    this.warnings = warnings;
    this.opened = new AtomicReferenceArray<>(sizes.length);
    this.failureWarned = new AtomicIntegerArray(sizes.length);
  }

  /** {@link #open(Path, String, Consumer)} with warnings logged through {@link System.Logger} at WARNING. */
  public static TfRecordDataset open(Path dir, String split) {
    System.Logger log = System.getLogger(TfRecordDataset.class.getName());
    return open(dir, split, message -> log.log(System.Logger.Level.WARNING, message));
  }

  /**
   * Opens split {@code split} of the data set in {@code dir}.
   *
   * @param split the split to read, or null for the folder's only split
   * @param warnings receives one line per problem that does not stop the data set from being read: an index rebuilt,
   *     a shard missing or cut short
   * @throws DatasetException if the folder does not exist, holds no data set, has no such split, or its metadata is
   *     malformed
   */
  public static TfRecordDataset open(Path dir, String split, Consumer<String> warnings) {
    requireFolder(dir);
    DatasetMetadata metadata = DatasetMetadata.read(dir).orElse(null);
    TfRecordDataset dataset = metadata != null ? fromMetadata(dir, metadata, split, warnings)
        : fromFileNames(dir, split, warnings);
    dataset.checkShardsPresent();
    return dataset;
  }

  /** The splits a data set folder holds (from its metadata, else from its shard names), sorted. */
  public static Set<String> splits(Path dir) {
    requireFolder(dir);
    DatasetMetadata metadata = DatasetMetadata.read(dir).orElse(null);
    if (metadata != null) {
      return new TreeSet<>(metadata.splits().keySet());
    }
    Set<String> splits = new TreeSet<>();
    for (Path f : listFolder(dir)) {
      ShardName shard = ShardName.parse(f.getFileName().toString());
      if (shard != null) {
        splits.add(shard.split());
      }
    }
    return splits;
  }

  private static void requireFolder(Path dir) {
    if (!Files.exists(dir)) {
      throw new DatasetException(dir, "data set folder not found: " + dir + "; check the path");
    }
    if (!Files.isDirectory(dir)) {
      throw new DatasetException(dir, dir + " is not a folder; pass the folder holding the TFRecord shards");
    }
  }

  private static TfRecordDataset fromMetadata(Path dir, DatasetMetadata metadata, String split,
      Consumer<String> warnings) {
    String chosen = chooseSplit(dir, metadata.splits().keySet(), split);
    DatasetMetadata.Split s = metadata.splits().get(chosen);
    List<Path> files = new ArrayList<>();
    long[] sizes = new long[s.shards().size()];
    for (int k = 0; k < sizes.length; k++) {
      files.add(dir.resolve(s.shards().get(k).file()));
      sizes[k] = s.shards().get(k).records();
    }
    return new TfRecordDataset(dir, s.name(), chosen, files, sizes, s.classes(), s.image(), warnings);
  }

  private static String chooseSplit(Path dir, Set<String> available, String split) {
    if (available.isEmpty()) {
      throw new DatasetException(dir, dir + " holds no TFRecord shards (files named NAME-SPLIT.tfrecord-00000-of-"
          + "00001) and no " + DatasetMetadata.FILE_NAME + "; import a data set with 'vitfleet dataset import'");
    }
    if (split == null) {
      if (available.size() > 1) {
        throw new DatasetException(dir, dir + " holds splits " + available + "; choose one");
      }
      return available.iterator().next();
    }
    if (!available.contains(split)) {
      throw new DatasetException(dir, dir + " has no split '" + split + "'; it holds " + available);
    }
    return split;
  }

  private static TfRecordDataset fromFileNames(Path dir, String split, Consumer<String> warnings) {
    List<ShardName> shards = new ArrayList<>();
    List<Path> all = listFolder(dir);
    if (all.isEmpty()) {
      throw new DatasetException(dir, dir + " is empty: no TFRecord shards and no " + DatasetMetadata.FILE_NAME
          + "; import a data set with 'vitfleet dataset import'");
    }
    Set<String> available = new TreeSet<>();
    for (Path f : all) {
      ShardName shard = ShardName.parse(f.getFileName().toString());
      if (shard != null) {
        available.add(shard.split());
        shards.add(shard);
      }
    }
    String chosen = chooseSplit(dir, available, split);
    shards.removeIf(s -> !s.split().equals(chosen));
    shards.sort(Comparator.comparing(ShardName::dataset).thenComparingInt(ShardName::shard));
    ShardName first = shards.get(0);
    for (int k = 0; k < shards.size(); k++) {
      ShardName s = shards.get(k);
      if (!s.dataset().equals(first.dataset()) || s.shards() != first.shards() || s.shard() != k) {
        throw new DatasetException(dir, dir + " holds shards of split " + chosen + " that are not one complete set"
            + " (expected " + new ShardName(first.dataset(), chosen, k, first.shards()).fileName() + ", found "
            + s.fileName() + ") and no " + DatasetMetadata.FILE_NAME + " to say which records are missing;"
            + " re-import the data set");
      }
    }
    if (shards.size() != first.shards()) {
      throw new DatasetException(dir, dir + " holds " + shards.size() + " of the " + first.shards() + " shards of "
          + first.dataset() + "-" + chosen + " and no " + DatasetMetadata.FILE_NAME
          + " to say how many records the missing ones held; re-import the data set");
    }
    List<Path> files = new ArrayList<>();
    long[] sizes = new long[shards.size()];
    int maxLabel = -1;
    for (int k = 0; k < sizes.length; k++) {
      Path file = dir.resolve(shards.get(k).fileName());
      files.add(file);
      try (TfRecordFile f = TfRecordFile.open(file, warnings)) {
        sizes[k] = f.records();
        for (long r = 0; r < f.records(); r++) {
          TfRecordFile.RecordRead record = f.read(r);
          TfExample.Decoded decoded = record.isValid() ? TfExample.decode(record.data()) : null;
          if (decoded != null && decoded.status() == SampleStatus.VALID && decoded.label() >= 0
              && decoded.label() < Integer.MAX_VALUE) {
            maxLabel = (int) Math.max(maxLabel, decoded.label());
          }
        }
      } catch (IOException e) {
        throw new DatasetException(file, "cannot close " + file + ": " + e.getMessage(), e);
      }
    }
    if (maxLabel < 0) {
      throw new DatasetException(dir, dir + " holds no readable example with a label in split " + chosen);
    }
    List<String> classNames = new ArrayList<>();
    for (int c = 0; c <= maxLabel; c++) {
      classNames.add(Integer.toString(c));
    }
    warnings.accept(dir + " has no " + DatasetMetadata.FILE_NAME + ": counted " + Arrays.stream(sizes).sum()
        + " records and " + classNames.size() + " classes (labels 0.." + maxLabel + ") by reading every record");
    return new TfRecordDataset(dir, first.dataset(), chosen, files, sizes, classNames, null, warnings);
  }

  private static List<Path> listFolder(Path dir) {
    List<Path> files = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
      stream.forEach(files::add);
    } catch (IOException e) {
      throw new DatasetException(dir, "cannot list " + dir + ": " + e.getMessage(), e);
    }
    files.sort(Comparator.naturalOrder());
    return files;
  }

  private void checkShardsPresent() {
    for (int s = 0; s < shardFiles.size(); s++) {
      if (!Files.isRegularFile(shardFiles.get(s))) {
        warnings.accept("shard " + shardFiles.get(s) + " is missing: its " + (start[s + 1] - start[s])
            + " samples (indices " + start[s] + ".." + (start[s + 1] - 1) + ") will read as invalid");
      }
    }
  }

  /** The folder. */
  public Path dir() {
    return dir;
  }

  /** The data set name in the shard file names. */
  public String name() {
    return name;
  }

  public String split() {
    return split;
  }

  @Override
  public long size() {
    return start[start.length - 1];
  }

  @Override
  public int classes() {
    return classNames.size();
  }

  /** Class names by label (for a data set without metadata, the labels as text). */
  public List<String> classNames() {
    return classNames;
  }

  @Override
  public ImageShape imageShape() {
    return imageShape;
  }

  @Override
  public long[] shardSizes() {
    long[] sizes = new long[shardFiles.size()];
    for (int s = 0; s < sizes.length; s++) {
      sizes[s] = start[s + 1] - start[s];
    }
    return sizes;
  }

  /** The shard files, in shard order. */
  public List<Path> shardFiles() {
    return shardFiles;
  }

  /** The shard holding global sample {@code index}: the last shard starting at or before it (empty shards skipped). */
  public int shardOf(long index) {
    Objects.checkIndex(index, size());
    int low = 0;
    int high = start.length - 2;
    while (low < high) {
      int mid = (low + high + 1) >>> 1;
      if (start[mid] <= index) {
        low = mid;
      } else {
        high = mid - 1;
      }
    }
    return low;
  }

  /** The first global index of shard {@code shard}. */
  public long shardStart(int shard) {
    return start[shard];
  }

  /**
   * Opens shard {@code shard} now (it would be opened on first read anyway).
   *
   * @return the open file
   * @throws DatasetException if it is missing or is not a TFRecord file
   */
  public TfRecordFile shard(int shard) {
    Object state = openShard(shard, false);
    if (state instanceof TfRecordFile) {
      return (TfRecordFile) state;
    }
    SampleRead failure = (SampleRead) state;
    throw new DatasetException(shardFiles.get(shard), failure.detail());
  }

  @Override
  public SampleRead read(long index) {
    if (closed) {
      throw new IllegalStateException(describe() + " is closed");
    }
    int s = shardOf(index);
    long record = index - start[s];
    Object state = openShard(s, true);
    if (!(state instanceof TfRecordFile)) {
      SampleRead failure = (SampleRead) state;
      return SampleRead.invalid(index, failure.status(), failure.file(), failure.offset(), failure.detail());
    }
    TfRecordFile file = (TfRecordFile) state;
    String where = file.path().toString();
    TfRecordFile.RecordRead r = file.read(record);
    if (!r.isValid()) {
      return SampleRead.invalid(index, r.status(), where, r.offset(), r.detail());
    }
    TfExample.Decoded example = TfExample.decode(r.data());
    if (example.status() != SampleStatus.VALID) {
      return SampleRead.invalid(index, example.status(), where, r.offset(), "record " + record + ": "
          + example.detail());
    }
    if (example.label() < 0 || example.label() >= classes()) {
      return SampleRead.invalid(index, SampleStatus.LABEL_OUT_OF_RANGE, where, r.offset(), "record " + record
          + "'s label " + example.label() + " is outside 0.." + (classes() - 1));
    }
    return SampleRead.valid(index, (int) example.label(), example.image(), ImageFormat.sniff(example.image()), where,
        r.offset());
  }

  /**
   * The open shard, or a SampleRead template saying why it cannot be opened; opened once, on first use.
   *
   * @param warn whether a shard that cannot be opened is also reported to the warnings (once), as on the read path
   */
  private Object openShard(int s, boolean warn) {
    Object state = opened.get(s);
    if (state == null) {
      synchronized (opened) {
        state = opened.get(s);
        if (state == null) {
          state = tryOpen(s);
          opened.set(s, state);
        }
      }
    }
    if (warn && state instanceof SampleRead && failureWarned.compareAndSet(s, 0, 1)) {
      SampleRead failure = (SampleRead) state;
      if (failure.status() != SampleStatus.MISSING_SHARD) { // missing shards were reported when the split was opened
        warnings.accept(failure.detail() + "; its " + (start[s + 1] - start[s]) + " samples will read as invalid");
      }
    }
    return state;
  }

  private Object tryOpen(int s) {
    Path file = shardFiles.get(s);
    if (!Files.exists(file)) {
      return SampleRead.invalid(start[s], SampleStatus.MISSING_SHARD, file.toString(), -1, "shard " + file
          + " is missing; restore it or re-import the data set");
    }
    try {
      TfRecordFile f = TfRecordFile.open(file, warnings);
      long expected = start[s + 1] - start[s];
      if (f.records() > expected) {
        warnings.accept("shard " + file + " holds " + f.records() + " records but the metadata says " + expected
            + "; only the first " + expected + " are read");
      }
      return f;
    } catch (DatasetException e) {
      boolean absent = !Files.exists(file);
      return SampleRead.invalid(start[s], absent ? SampleStatus.MISSING_SHARD : SampleStatus.BAD_RECORD_HEADER,
          file.toString(), absent ? -1 : 0, e.getMessage());
    }
  }

  @Override
  public String describe() {
    return "TFRecord data set " + dir + " split " + split + " (" + size() + " samples in " + shardFiles.size()
        + " shards)";
  }

  @Override
  public void close() {
    closed = true;
    synchronized (opened) {
      for (int s = 0; s < opened.length(); s++) {
        Object state = opened.getAndSet(s, null);
        if (state instanceof TfRecordFile) {
          try {
            ((TfRecordFile) state).close();
          } catch (IOException e) {
            warnings.accept("cannot close " + shardFiles.get(s) + ": " + e.getMessage());
          }
        }
      }
    }
  }

  @Override
  public String toString() {
    return describe();
  }
}

package io.vitfleet.feeder.tfrecord;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The TFDS name of a shard: {@code NAME-SPLIT.tfrecord-IIIII-of-NNNNN}, e.g.
 * {@code fashion_mnist-train.tfrecord-00000-of-00004}: data set name, split, shard index and shard count (at least
 * five digits each). The split has no '-' or '.', so the name may hold '-'.
 */
public record ShardName(String dataset, String split, int shard, int shards) {
  private static final Pattern PATTERN =
      Pattern.compile("(.+)-([A-Za-z0-9_]+)\\.tfrecord-(\\d{5,})-of-(\\d{5,})");
  private static final Pattern SPLIT = Pattern.compile("[A-Za-z0-9_]+");
  private static final Pattern DATASET = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*");

  public ShardName {
    requireValidDataset(dataset);
    requireValidSplit(split);
    if (shards < 1 || shard < 0 || shard >= shards) {
      throw new IllegalArgumentException("shard " + shard + " of " + shards + " is not a shard: need 0 <= shard < "
          + "shards");
    }
  }

  /** The parsed name, or null if {@code fileName} is not a TFDS shard name. */
  public static ShardName parse(String fileName) {
    Matcher m = PATTERN.matcher(fileName);
    if (!m.matches()) {
      return null;
    }
    try {
      int shard = Integer.parseInt(m.group(3));
      int shards = Integer.parseInt(m.group(4));
      return shard < shards && DATASET.matcher(m.group(1)).matches() ? new ShardName(m.group(1), m.group(2), shard,
          shards) : null;
    } catch (NumberFormatException tooManyDigits) {
      return null;
    }
  }

  /** The file name. */
  public String fileName() {
    return String.format(Locale.ROOT, "%s-%s.tfrecord-%05d-of-%05d", dataset, split, shard, shards);
  }

  /**
   * @throws IllegalArgumentException unless the split is letters, digits and '_'
   */
  public static void requireValidSplit(String split) {
    if (split == null || !SPLIT.matcher(split).matches()) {
      throw new IllegalArgumentException("split '" + split + "' must be letters, digits and '_' (e.g. train, test)");
    }
  }

  /**
   * @throws IllegalArgumentException unless the name is letters, digits, '_', '.' and '-', not starting with '.' or '-'
   */
  public static void requireValidDataset(String dataset) {
    if (dataset == null || !DATASET.matcher(dataset).matches()) {
      throw new IllegalArgumentException("data set name '" + dataset + "' must be letters, digits, '_', '.' and '-'"
          + " (e.g. fashion_mnist), not starting with '.' or '-'");
    }
  }

  @Override
  public String toString() {
    return fileName();
  }
}

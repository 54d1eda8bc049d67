package io.vitfleet.feeder.synthetic;

import io.vitfleet.feeder.EpochOrder;
import io.vitfleet.feeder.source.ImageFormat;
import io.vitfleet.feeder.source.ImageShape;
import io.vitfleet.feeder.source.SampleRead;
import io.vitfleet.feeder.source.SampleSource;
import io.vitfleet.feeder.source.SampleStatus;
import java.util.Locale;
import java.util.Objects;

/**
 * A data set of any size (default {@value #DEFAULT_SIZE}, JFT-3B's) held nowhere: sample i is computed from i alone,
 * so billion-scale feeding, ordering and corrupt-data handling can be tested without storage, and any host computes
 * the same bytes for the same i.
 *
 * <p>Sample i: label {@code mix64(i ^ LABEL_SALT) mod classes}; image a diagonal gradient whose slope and per-channel
 * phase depend on the label (so a model can learn it), with a few bits of per-sample noise from a generator seeded by
 * {@code mix64(i)}; as raw HWC pixels ({@link ImageFormat#RAW}) or as a PNG ({@link PngEncoder}, identical bytes on
 * every JVM). Optionally, to exercise the corrupt-sample rule at scale, sample i reads as invalid (BAD_DATA_CRC) when
 * {@code mix64(i ^ CORRUPT_SALT) mod 10^6 < invalidPerMillion}: a fixed, scattered subset.
 *
 * <p>Virtual shards of {@value #VIRTUAL_SHARD_SAMPLES} samples (more for sizes that would need more than
 * {@value #MAX_VIRTUAL_SHARDS} of them) stand in for files, so a shard-aware epoch order works as on real data.
 */
public final class SyntheticDataset implements SampleSource {
  /** JFT-3B's size: the scale the feeder must handle. */
  public static final long DEFAULT_SIZE = 3_000_000_000L;
  /** ImageNet's class count: a plausible head size for a synthetic run. */
  public static final int DEFAULT_CLASSES = 1000;
  /** Fashion-MNIST's shape: cheap to generate and to train the demo model on. */
  public static final ImageShape DEFAULT_SHAPE = new ImageShape(28, 28, 1);
  /** Samples per virtual shard: about one real shard's worth. */
  public static final long VIRTUAL_SHARD_SAMPLES = 1L << 20;
  /** The most virtual shards: the shard table costs 8 bytes each. */
  public static final int MAX_VIRTUAL_SHARDS = 1 << 16;

  /** How the images are delivered. */
  public enum Encoding {
    /** u8 pixels in HWC order, {@link ImageShape#pixels()} bytes. */
    RAW,
    /** A PNG of stored deflate blocks. */
    PNG
  }

  private static final long LABEL_SALT = 0x1abe_15a1_7000_0001L;
  private static final long PIXEL_SALT = 0x0b1c_5eed_0000_0002L;
  private static final long CORRUPT_SALT = 0x0c0f_fee0_bad0_0003L;
  private static final int PER_MILLION = 1_000_000;
  /** Noise amplitude: the low bits of each pixel; small enough that the label's pattern stays visible. */
  private static final int NOISE_MASK = 0x1f;

  private final long size;
  private final int classes;
  private final ImageShape shape;
  private final Encoding encoding;
  private final int invalidPerMillion;
  private final long shardSamples;

  /**
   * @param size N, 1 to {@link EpochOrder#MAX_SIZE}
   * @param classes at least 1
   * @param shape the images' shape (at most 2^30 pixels)
   * @param invalidPerMillion how many samples per million read as invalid, 0 to 1,000,000
   */
  public SyntheticDataset(long size, int classes, ImageShape shape, Encoding encoding, int invalidPerMillion) {
    if (size < 1 || size > EpochOrder.MAX_SIZE) {
      throw new IllegalArgumentException("synthetic data set size must be in 1.." + EpochOrder.MAX_SIZE + ", not "
          + size);
    }
    if (classes < 1) {
      throw new IllegalArgumentException("synthetic data set needs at least 1 class, not " + classes);
    }
    if (shape.pixels() > (1L << 30)) {
      throw new IllegalArgumentException("synthetic images of " + shape + " are too large (at most 2^30 pixels)");
    }
    if (invalidPerMillion < 0 || invalidPerMillion > PER_MILLION) {
      throw new IllegalArgumentException("invalid samples per million must be in 0..1000000, not "
          + invalidPerMillion);
    }
    this.size = size;
    this.classes = classes;
    this.shape = Objects.requireNonNull(shape, "shape");
    this.encoding = Objects.requireNonNull(encoding, "encoding");
    this.invalidPerMillion = invalidPerMillion;
    long minShard = (size + MAX_VIRTUAL_SHARDS - 1) / MAX_VIRTUAL_SHARDS;
    this.shardSamples = Math.max(VIRTUAL_SHARD_SAMPLES, minShard);
  }

  /** The default: {@value #DEFAULT_SIZE} samples, {@value #DEFAULT_CLASSES} classes, 28x28x1 PNGs, none invalid. */
  public static SyntheticDataset defaults() {
    return new SyntheticDataset(DEFAULT_SIZE, DEFAULT_CLASSES, DEFAULT_SHAPE, Encoding.PNG, 0);
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public int classes() {
    return classes;
  }

  @Override
  public ImageShape imageShape() {
    return shape;
  }

  public Encoding encoding() {
    return encoding;
  }

  @Override
  public long[] shardSizes() {
    int shards = (int) ((size + shardSamples - 1) / shardSamples);
    long[] sizes = new long[shards];
    for (int s = 0; s < shards; s++) {
      sizes[s] = Math.min(shardSamples, size - s * shardSamples);
    }
    return sizes;
  }

  /** The label of sample {@code index}. */
  public int label(long index) {
    Objects.checkIndex(index, size);
    return (int) Long.remainderUnsigned(mix64(index ^ LABEL_SALT), classes);
  }

  /** Whether sample {@code index} is one of the injected invalid samples. */
  public boolean isInjectedInvalid(long index) {
    Objects.checkIndex(index, size);
    return invalidPerMillion > 0
        && Long.remainderUnsigned(mix64(index ^ CORRUPT_SALT), PER_MILLION) < invalidPerMillion;
  }

  /**
   * Writes the raw pixels of sample {@code index} (HWC, {@link ImageShape#pixels()} bytes) into {@code out} from
   * {@code offset}: the caller-buffer path, no allocation.
   */
  public void pixels(long index, byte[] out, int offset) {
    int label = label(index);
    int height = shape.height();
    int width = shape.width();
    int channels = shape.channels();
    int slope = 1 + label % 7;
    int tilt = 1 + (label / 7) % 5;
    long noise = mix64(index ^ PIXEL_SALT) | 1;
    long bits = 0;
    int bitsLeft = 0;
    int p = offset;
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        for (int c = 0; c < channels; c++) {
          if (bitsLeft == 0) {
            noise ^= noise << 13;
            noise ^= noise >>> 7;
            noise ^= noise << 17;
            bits = noise;
            bitsLeft = 8;
          }
          int phase = (label * 37 + c * 85) & 0xff;
          out[p++] = (byte) ((phase + x * slope + y * tilt) ^ ((int) bits & NOISE_MASK));
          bits >>>= 8;
          bitsLeft--;
        }
      }
    }
  }

  @Override
  public SampleRead read(long index) {
    Objects.checkIndex(index, size);
    long shard = index / shardSamples;
    String where = "synthetic shard " + shard;
    if (isInjectedInvalid(index)) {
      return SampleRead.invalid(index, SampleStatus.BAD_DATA_CRC, where, -1, "sample " + index
          + " is one of the " + invalidPerMillion + " per million synthetic samples made invalid on purpose");
    }
    byte[] raw = new byte[(int) shape.pixels()];
    pixels(index, raw, 0);
    byte[] image = encoding == Encoding.PNG
        ? PngEncoder.encode(raw, 0, shape.height(), shape.width(), shape.channels()) : raw;
    return SampleRead.valid(index, label(index), image,
        encoding == Encoding.PNG ? ImageFormat.PNG : ImageFormat.RAW, where, -1);
  }

  @Override
  public String describe() {
    return "synthetic data set of " + size + " samples, " + classes + " classes, " + shape + " "
        + encoding.name().toLowerCase(Locale.ROOT) + (invalidPerMillion > 0 ? ", " + invalidPerMillion
        + " invalid per million" : "");
  }

  @Override
  public void close() {
    // Nothing is held.
  }

  @Override
  public String toString() {
    return describe();
  }

  /** The SplitMix64 finaliser: a bijection on longs with full avalanche. */
  static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}

package io.vitfleet.feeder.order;

import io.vitfleet.feeder.EpochOrder;
import java.util.Objects;

/**
 * The epoch order of a sharded data set, with read locality: each epoch visits the shards in a permuted order, cuts
 * that shard sequence into windows of {@code window} (W) consecutive shards, and shuffles the samples within each
 * window. A reader therefore streams from at most W shards at a time (2W across a window boundary) and reads each
 * shard once per epoch, while the samples of a step still come from W different shards in a random order.
 *
 * <p>Like {@link EpochOrder}, which it is built from, it is a pure function of (seed, epoch, position), a permutation
 * of [0, N) for every (seed, epoch), with an inverse, {@link #position}. Memory is O(shards), never O(N): the shard
 * sizes, plus for the few most recent epochs the permuted shard sequence and its cumulative sample counts (12 bytes
 * per shard each), computed in O(K) the first time an epoch is asked for. Shards may differ in size (the last file
 * of a data set usually does).
 *
 * <p>How a position p of an epoch becomes a sample: (1) the shard order is {@link EpochOrder} over the K shards under a
 * key derived from the seed; (2) the epoch's positions are the windows' samples, window after window, so p falls in
 * window w, at offset q from the window's first position; (3) q is shuffled over the window's S_w samples by
 * {@link EpochOrder} of size S_w under a key derived from (seed, w); (4) the shuffled offset is a sample of one of the
 * window's shards, laid end to end in permuted order. Each step is a bijection, so the whole is one.
 *
 * <p>The output for given inputs is part of every run's reproducibility (the pinned-values test guards it).
 */
public final class ShardedEpochOrder implements EpochPermutation {
  /**
   * The most shards an order may have: each costs 8 bytes of sizes and 12 bytes per cached epoch layout, so 2^24
   * shards (16.7M, e.g. 3 billion samples in shards of 180) stay below a gigabyte. Real data sets have far fewer
   * (JFT-3B in shards of 10,000 records: 300,000 shards, under 20 MB, tens of milliseconds to lay out an epoch).
   */
  public static final int MAX_SHARDS = 1 << 24;
  /** Epoch layouts kept: the current epoch, the next (steps straddle), and a few for lookups of other epochs. */
  private static final int CACHED_EPOCHS = 4;
  private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;
  private static final long SHARD_SALT = 0x5a4d_0bde_12c3_7e01L;
  private static final long WINDOW_SALT = 0x3c6e_f372_fe94_f82bL;

  /** shardStart[s] = first sample index of shard s in the data set; shardStart[K] = N. */
  private final long[] shardStart;
  private final int window;
  private final int windows;
  private final EpochOrder shardOrder;

  /**
   * The most recently used epochs' layouts, newest first: a step may straddle two epochs, and a few more let
   * {@link #position} answer for other epochs without recomputing O(K) layouts on every call. Replaced whole (never
   * mutated), so readers need no lock.
   */
  private volatile Layout[] recent = new Layout[0];

  /**
   * @param shardSizes samples per shard, in data set order (shard s holds the indices after those of shards < s); a
   *     shard may be empty, but not all of them
   * @param window W, the shards whose samples are shuffled together (1 = shard by shard; >= K = one global shuffle)
   */
  public ShardedEpochOrder(long[] shardSizes, int window) {
    if (shardSizes.length < 1 || shardSizes.length > MAX_SHARDS) {
      throw new IllegalArgumentException("epoch order: the number of shards must be in 1.." + MAX_SHARDS + ", not "
          + shardSizes.length);
    }
    if (window < 1) {
      throw new IllegalArgumentException("epoch order: the shuffle window must be at least 1 shard, not " + window);
    }
    int k = shardSizes.length;
    this.shardStart = new long[k + 1];
    for (int s = 0; s < k; s++) {
      if (shardSizes[s] < 0) {
        throw new IllegalArgumentException("epoch order: shard " + s + " has a negative size " + shardSizes[s]);
      }
      shardStart[s + 1] = shardStart[s] + shardSizes[s];
      if (shardStart[s + 1] > EpochOrder.MAX_SIZE || shardStart[s + 1] < 0) {
        throw new IllegalArgumentException("epoch order: the shards hold more than " + EpochOrder.MAX_SIZE
            + " samples");
      }
    }
    if (shardStart[k] < 1) {
      throw new IllegalArgumentException("epoch order: all " + k + " shards are empty");
    }
    this.window = Math.min(window, k);
    this.windows = (k + this.window - 1) / this.window;
    this.shardOrder = new EpochOrder(k);
  }

  /**
   * N samples split into {@code shards} shards of equal size (the first N mod K one sample larger), e.g. for
   * synthetic data or the {@code dataset check-order} command.
   */
  public static ShardedEpochOrder uniform(long size, int shards, int window) {
    if (size < 1) {
      throw new IllegalArgumentException("epoch order: data set size must be at least 1, not " + size);
    }
    if (shards < 1 || shards > size) {
      throw new IllegalArgumentException("epoch order: the number of shards must be in 1..N = " + size + ", not "
          + shards);
    }
    long[] sizes = new long[shards];
    long base = size / shards;
    long extra = size % shards;
    for (int s = 0; s < shards; s++) {
      sizes[s] = base + (s < extra ? 1 : 0);
    }
    return new ShardedEpochOrder(sizes, window);
  }

  @Override
  public long size() {
    return shardStart[shardStart.length - 1];
  }

  /** K: the number of shards. */
  public int shards() {
    return shardStart.length - 1;
  }

  /** W: shards per shuffle window (at most K). */
  public int window() {
    return window;
  }

  /** ceil(K / W): shuffle windows per epoch. */
  public int windows() {
    return windows;
  }

  /** Samples in shard {@code shard}. */
  public long shardSize(int shard) {
    Objects.checkIndex(shard, shards());
    return shardStart[shard + 1] - shardStart[shard];
  }

  /** The first sample index of shard {@code shard}. */
  public long shardStart(int shard) {
    Objects.checkIndex(shard, shards());
    return shardStart[shard];
  }

  /** The shard holding sample {@code index}. */
  public int shardOf(long index) {
    Objects.checkIndex(index, size());
    return floorSearch(shardStart, 0, shards(), index);
  }

  /** The shard read {@code rank}-th (0-based) in epoch {@code epoch}: what a reader opens, and in which order. */
  public int shardAt(long seed, long epoch, int rank) {
    Objects.checkIndex(rank, shards());
    return layout(seed, epoch).shardAt[rank];
  }

  /** The first epoch position of window {@code w} (w = windows() gives N): its samples are [start(w), start(w+1)). */
  public long windowStart(long seed, long epoch, int w) {
    Objects.checkIndex(w, windows + 1);
    return layout(seed, epoch).start[Math.min(w * window, shards())];
  }

  /** The window that epoch position {@code position} falls in. */
  public int windowOf(long seed, long epoch, long position) {
    Objects.checkIndex(position, size());
    return windowAt(layout(seed, epoch), position);
  }

  @Override
  public long index(long seed, long epoch, long position) {
    Objects.checkIndex(position, size());
    Layout layout = layout(seed, epoch);
    int w = windowAt(layout, position);
    int first = w * window;
    int end = Math.min(first + window, shards());
    long windowStart = layout.start[first];
    long windowSize = layout.start[end] - windowStart;
    long offset = new EpochOrder(windowSize).index(windowSeed(seed, w), epoch, position - windowStart);
    long target = windowStart + offset;
    int rank = floorSearch(layout.start, first, end, target);
    int shard = layout.shardAt[rank];
    return shardStart[shard] + (target - layout.start[rank]);
  }

  @Override
  public long position(long seed, long epoch, long index) {
    Objects.checkIndex(index, size());
    int shard = floorSearch(shardStart, 0, shards(), index);
    int rank = (int) shardOrder.position(shardSeed(seed), epoch, shard);
    Layout layout = layout(seed, epoch);
    long target = layout.start[rank] + (index - shardStart[shard]);
    int w = rank / window;
    int first = w * window;
    int end = Math.min(first + window, shards());
    long windowStart = layout.start[first];
    long windowSize = layout.start[end] - windowStart;
    return windowStart + new EpochOrder(windowSize).position(windowSeed(seed, w), epoch, target - windowStart);
  }

  @Override
  public String toString() {
    return "ShardedEpochOrder[N=" + size() + ", shards=" + shards() + ", window=" + window + "]";
  }

  private int windowAt(Layout layout, long position) {
    int lo = 0;
    int hi = windows - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (layout.start[mid * window] <= position) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  /** The largest i in [from, to) with a[i] <= key (a ascending, a[from] <= key); skips empty shards. */
  private static int floorSearch(long[] a, int from, int to, long key) {
    int lo = from;
    int hi = to - 1;
    while (lo < hi) {
      int mid = (lo + hi + 1) >>> 1;
      if (a[mid] <= key) {
        lo = mid;
      } else {
        hi = mid - 1;
      }
    }
    return lo;
  }

  private Layout layout(long seed, long epoch) {
    Layout[] cached = recent;
    for (Layout l : cached) {
      if (l.seed == seed && l.epoch == epoch) {
        return l;
      }
    }
    Layout fresh = new Layout(seed, epoch);
    // Racing threads may each compute a layout and drop another's from the cache; layouts are equal for equal
    // (seed, epoch), so this costs time, never correctness.
    Layout[] next = new Layout[Math.min(CACHED_EPOCHS, cached.length + 1)];
    next[0] = fresh;
    System.arraycopy(cached, 0, next, 1, next.length - 1);
    recent = next;
    return fresh;
  }

  /** One epoch's shard sequence and where each shard's samples start among the epoch's positions. */
  private final class Layout {
    final long seed;
    final long epoch;
    final int[] shardAt;
    /** start[j] = the first epoch position of the j-th shard read; start[K] = N. */
    final long[] start;

    Layout(long seed, long epoch) {
      this.seed = seed;
      this.epoch = epoch;
      int k = shards();
      this.shardAt = new int[k];
      this.start = new long[k + 1];
      long key = shardSeed(seed);
      for (int j = 0; j < k; j++) {
        int s = (int) shardOrder.index(key, epoch, j);
        shardAt[j] = s;
        start[j + 1] = start[j] + (shardStart[s + 1] - shardStart[s]);
      }
    }
  }

  private static long shardSeed(long seed) {
    return mix64(seed ^ SHARD_SALT);
  }

  /** Distinct windows of one seed get distinct seeds (mix64 is a bijection). */
  private static long windowSeed(long seed, int w) {
    return mix64(mix64(seed ^ WINDOW_SALT) + (w + 1L) * GOLDEN_GAMMA);
  }

  /** The SplitMix64 finaliser, as in {@link EpochOrder}. */
  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}

package io.vitfleet.feeder;

import java.util.Objects;

/**
 * The order of the samples in each epoch: for a data set of {@code size} samples, {@link #index(long, long, long)}
 * maps (seed, epoch, position) to the sample at that position, and for every (seed, epoch) it is a permutation of
 * [0, size). Different epochs and seeds give unrelated orders; the same inputs always give the same order, on any
 * host and JVM (integer arithmetic only).
 *
 * <p>Why not shuffle an index array: this needs no memory and no state, so any feeder can compute any position of any
 * epoch directly, for data sets of billions of samples (sizes up to 2^62). It is a keyed Feistel network on the
 * smallest power-of-two domain holding {@code size} (at least 4), made a permutation of [0, size) by cycle walking:
 * apply the network again until the value falls inside. The domain is less than twice the size, so on average less
 * than two passes of {@value #ROUNDS} rounds are needed. The inverse, {@link #position}, tells where a sample lands.
 *
 * <p>The output for given inputs is part of every run's reproducibility: changing the rounds, the round function or
 * the key schedule changes which samples make up each step (the pinned-values test guards this).
 */
public final class EpochOrder {
  /** The largest data set size supported: indices and positions stay non-negative longs with room to spare. */
  public static final long MAX_SIZE = 1L << 62;
  /** Feistel rounds (even, so the halves end where they started); 4 suffice in theory, 6 leave margin. */
  static final int ROUNDS = 6;
  /** Fewer than 2 bits would leave a half of zero width and a network that cannot mix. */
  private static final int MIN_DOMAIN_BITS = 2;
  private static final long GOLDEN_GAMMA = 0x9e3779b97f4a7c15L;
  private static final long SEED_SALT = 0x5f0e_ed0a_da7a_0001L;

  private final long size;
  private final int rightBits;
  private final long leftMask;
  private final long rightMask;

  /**
   * @param size number of samples in the data set, 1 to {@link #MAX_SIZE}
   */
  public EpochOrder(long size) {
    if (size < 1 || size > MAX_SIZE) {
      throw new IllegalArgumentException("epoch order: data set size must be in 1.." + MAX_SIZE + ", not " + size);
    }
    this.size = size;
    int bits = Math.max(MIN_DOMAIN_BITS, 64 - Long.numberOfLeadingZeros(size - 1));
    int leftBits = bits / 2;
    this.rightBits = bits - leftBits;
    this.leftMask = (1L << leftBits) - 1;
    this.rightMask = (1L << rightBits) - 1;
  }

  public long size() {
    return size;
  }

  /**
   * The sample at {@code position} of epoch {@code epoch} under {@code seed}.
   *
   * @param position in [0, size)
   * @return a sample index in [0, size); each appears at exactly one position per (seed, epoch)
   */
  public long index(long seed, long epoch, long position) {
    Objects.checkIndex(position, size);
    long key = epochKey(seed, epoch);
    long x = position;
    do {
      x = permuteDomain(key, x);
    } while (x >= size);
    return x;
  }

  /**
   * The inverse of {@link #index}: the position of sample {@code index} in epoch {@code epoch} under {@code seed}.
   *
   * @param index in [0, size)
   */
  public long position(long seed, long epoch, long index) {
    Objects.checkIndex(index, size);
    long key = epochKey(seed, epoch);
    long x = index;
    do {
      x = unpermuteDomain(key, x);
    } while (x >= size);
    return x;
  }

  /** One key per (seed, epoch); distinct epochs of one seed always get distinct keys (mix64 is a bijection). */
  private static long epochKey(long seed, long epoch) {
    return mix64(mix64(seed ^ SEED_SALT) + epoch * GOLDEN_GAMMA);
  }

  /**
   * The Feistel network on [0, 2^bits): x = (left, right), and each pair of rounds is left ^= F(right), then
   * right ^= F(left), each F masked to the width of the half it changes (the halves differ by one bit when bits is
   * odd).
   */
  private long permuteDomain(long key, long x) {
    long left = x >>> rightBits;
    long right = x & rightMask;
    for (int round = 0; round < ROUNDS; round += 2) {
      left ^= roundFunction(key, round, right) & leftMask;
      right ^= roundFunction(key, round + 1, left) & rightMask;
    }
    return (left << rightBits) | right;
  }

  private long unpermuteDomain(long key, long x) {
    long left = x >>> rightBits;
    long right = x & rightMask;
    for (int round = ROUNDS - 2; round >= 0; round -= 2) {
      right ^= roundFunction(key, round + 1, left) & rightMask;
      left ^= roundFunction(key, round, right) & leftMask;
    }
    return (left << rightBits) | right;
  }

  private static long roundFunction(long key, int round, long half) {
    return mix64(half ^ (key + (round + 1) * GOLDEN_GAMMA));
  }

  /** The SplitMix64 finaliser (Stafford's variant 13): a bijection on longs with full avalanche. */
  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}

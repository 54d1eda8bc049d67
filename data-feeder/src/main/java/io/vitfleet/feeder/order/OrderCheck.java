package io.vitfleet.feeder.order;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;

/**
 * Checks that one epoch of an {@link EpochPermutation} visits every sample exactly once: {@link #full} walks all N
 * positions against a bitset of N bits (exhaustive; for N up to a few billion), {@link #sampled} checks ranges of
 * consecutive positions and inverse round trips for any N (a bijection test on samples of the order, for N far beyond
 * memory). Both report what {@code vitfleet dataset check-order} prints.
 *
 * <p>What the counts mean. {@code duplicates}: positions whose sample another position also produced (full: a bit
 * already set; sampled: equal samples within the checked ranges, or a position that does not map back to itself).
 * {@code missing}: samples that no position produces (full: bits never set; sampled: sampled indices whose position
 * does not map back to them, and positions whose sample is outside [0, N), which leave some sample out).
 */
public final class OrderCheck {
  /** Positions a worker takes at a time: large enough that handing out work costs nothing measurable. */
  private static final int CHUNK = 1 << 16;
  private static final VarHandle BITS = MethodHandles.arrayElementVarHandle(long[].class);

  /** The outcome; {@code checked} counts positions, {@code inverseChecked} random indices round-tripped. */
  public record Result(String mode, long n, long seed, long epoch, long checked, long duplicates, long missing,
                       long inverseChecked, double seconds) {
    /** True when no duplicate and no missing sample was found. */
    public boolean exactlyOnce() {
      return duplicates == 0 && missing == 0;
    }
  }

  private OrderCheck() {
  }

  /**
   * Every position of epoch {@code epoch}: each sample must appear once. Needs N / 8 bytes of heap.
   *
   * @param threads workers sharing the positions (the bitset is updated atomically)
   */
  public static Result full(EpochPermutation order, long seed, long epoch, int threads) {
    long n = order.size();
    if (n > (long) Integer.MAX_VALUE * Long.SIZE) {
      throw new IllegalArgumentException("a full check of N = " + n + " needs a bitset beyond a Java array; use the"
          + " sampled check");
    }
    long t0 = System.nanoTime();
    long[] bits = new long[(int) ((n + Long.SIZE - 1) / Long.SIZE)];
    AtomicLong duplicates = new AtomicLong();
    AtomicLong outside = new AtomicLong();
    long chunks = (n + CHUNK - 1) / CHUNK;
    run(threads, () -> LongStream.range(0, chunks).parallel().forEach(c -> {
      long dup = 0;
      long out = 0;
      long end = Math.min(n, (c + 1) * CHUNK);
      for (long p = c * CHUNK; p < end; p++) {
        long i = order.index(seed, epoch, p);
        if (i < 0 || i >= n) {
          out++;
          continue;
        }
        int word = (int) (i >>> 6);
        long bit = 1L << i;
        long before = (long) BITS.getAndBitwiseOr(bits, word, bit);
        if ((before & bit) != 0) {
          dup++;
        }
      }
      duplicates.addAndGet(dup);
      outside.addAndGet(out);
    }));
    long seen = 0;
    for (long w : bits) {
      seen += Long.bitCount(w);
    }
    return new Result("full", n, seed, epoch, n, duplicates.get(), n - seen, 0, (System.nanoTime() - t0) * 1e-9);
  }

  /**
   * {@code ranges} ranges of consecutive positions, {@code positions} in all, at random starts: their samples must be
   * distinct, inside [0, N), and map back to their positions; and as many random sample indices must map to a
   * position and back.
   *
   * @param random seeds the choice of ranges and indices (not the order)
   */
  public static Result sampled(EpochPermutation order, long seed, long epoch, long positions, int ranges,
                               long random, int threads) {
    long n = order.size();
    if (positions < 1 || positions > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("sampled positions must be in 1.." + (Integer.MAX_VALUE - 8) + ", not "
          + positions);
    }
    if (ranges < 1 || ranges > positions) {
      throw new IllegalArgumentException("ranges must be in 1..positions = " + positions + ", not " + ranges);
    }
    long t0 = System.nanoTime();
    int total = (int) Math.min(positions, n);
    int rangeCount = Math.min(ranges, total);
    int perRange = total / rangeCount;
    int count = perRange * rangeCount;
    SplittableRandom rng = new SplittableRandom(random);
    // One range in each of R equal strata of the epoch, so ranges never overlap and spread over the whole epoch.
    long[] starts = new long[rangeCount];
    for (int r = 0; r < rangeCount; r++) {
      long from = stratum(n, r, rangeCount);
      long to = stratum(n, r + 1, rangeCount);
      starts[r] = from + rng.nextLong(to - from - perRange + 1);
    }
    long[] samples = new long[count];
    AtomicLong notBack = new AtomicLong();
    AtomicLong outside = new AtomicLong();
    long[] indices = new long[count];
    for (int i = 0; i < count; i++) {
      indices[i] = rng.nextLong(n);
    }
    AtomicLong lost = new AtomicLong();
    run(threads, () -> LongStream.range(0, (count + CHUNK - 1) / CHUNK).parallel().forEach(c -> {
      long back = 0;
      long out = 0;
      long miss = 0;
      int end = (int) Math.min(count, (c + 1) * CHUNK);
      for (int k = (int) (c * CHUNK); k < end; k++) {
        long p = starts[k / perRange] + k % perRange;
        long i = order.index(seed, epoch, p);
        samples[k] = i;
        if (i < 0 || i >= n) {
          out++;
        } else if (order.position(seed, epoch, i) != p) {
          back++;
        }
        long q = order.position(seed, epoch, indices[k]);
        if (q < 0 || q >= n || order.index(seed, epoch, q) != indices[k]) {
          miss++;
        }
      }
      notBack.addAndGet(back);
      outside.addAndGet(out);
      lost.addAndGet(miss);
    }));
    Arrays.parallelSort(samples);
    long equal = 0;
    for (int k = 1; k < count; k++) {
      if (samples[k] == samples[k - 1]) {
        equal++;
      }
    }
    long duplicates = equal + notBack.get();
    return new Result("sampled", n, seed, epoch, count, duplicates, lost.get() + outside.get(), count,
        (System.nanoTime() - t0) * 1e-9);
  }

  /** floor(r * n / ranges) without overflow (n up to 2^62, ranges up to 2^31). */
  private static long stratum(long n, int r, int ranges) {
    return n / ranges * r + n % ranges * r / ranges;
  }

  private static void run(int threads, Runnable work) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + threads);
    }
    ForkJoinPool pool = new ForkJoinPool(threads);
    try {
      pool.submit(work).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("order check interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException("order check failed: " + e.getCause(), e.getCause());
    } finally {
      pool.shutdown();
    }
  }
}

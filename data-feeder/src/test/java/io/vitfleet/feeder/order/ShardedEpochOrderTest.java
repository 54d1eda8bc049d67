package io.vitfleet.feeder.order;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.BitSet;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ShardedEpochOrderTest {
  private static final long THREE_BILLION = 3_000_000_000L;

  @Test
  void shouldVisitEveryIndexOfTenMillionExactlyOnceInAnEpoch() {
    int n = 10_000_000;
    ShardedEpochOrder order = ShardedEpochOrder.uniform(n, 1_237, 16);
    long[] seen = new long[(n + 63) / 64];
    int duplicates = 0;
    for (long p = 0; p < n; p++) {
      long i = order.index(11, 2, p);
      assertTrue(i >= 0 && i < n, "index " + i + " of position " + p + " outside [0, N)");
      long bit = 1L << i;
      if ((seen[(int) (i >>> 6)] & bit) != 0) {
        duplicates++;
      }
      seen[(int) (i >>> 6)] |= bit;
    }
    long distinct = Arrays.stream(seen).map(Long::bitCount).sum();
    assertEquals(0, duplicates);
    assertEquals(n, distinct);
  }

  @ParameterizedTest(name = "{0} shards, window {1}")
  @CsvSource({"1, 1", "1, 8", "7, 1", "7, 3", "7, 7", "7, 100", "64, 5", "300, 16"})
  void shouldBeAPermutationWithItsInverseForShardsOfUnequalSizes(int shards, int window) {
    SplittableRandom random = new SplittableRandom(shards * 31L + window);
    long[] sizes = new long[shards];
    for (int s = 0; s < shards; s++) {
      sizes[s] = random.nextInt(10) == 0 ? 0 : 1 + random.nextInt(200);
    }
    sizes[shards - 1] = Math.max(1, sizes[shards - 1]);
    ShardedEpochOrder order = new ShardedEpochOrder(sizes, window);
    int n = (int) order.size();
    assertEquals(Arrays.stream(sizes).sum(), n);
    for (long epoch = 0; epoch < 3; epoch++) {
      BitSet seen = new BitSet(n);
      for (long p = 0; p < n; p++) {
        long i = order.index(5, epoch, p);
        assertTrue(i >= 0 && i < n, "index " + i + " outside [0, " + n + ")");
        assertFalse(seen.get((int) i), "sample " + i + " twice in epoch " + epoch);
        seen.set((int) i);
        assertEquals(p, order.position(5, epoch, i), "inverse of position " + p);
      }
      assertEquals(n, seen.cardinality());
    }
  }

  @Test
  void shouldBeABijectionOnRandomRangesOfThreeBillionSamples() {
    ShardedEpochOrder order = ShardedEpochOrder.uniform(THREE_BILLION, 30_011, 16);
    SplittableRandom random = new SplittableRandom(3);
    int length = 100_000;
    for (int trial = 0; trial < 6; trial++) {
      long epoch = random.nextLong(1_000);
      long start = random.nextLong(THREE_BILLION - length);
      long[] samples = new long[length];
      for (int k = 0; k < length; k++) {
        long p = start + k;
        samples[k] = order.index(7, epoch, p);
        assertTrue(samples[k] >= 0 && samples[k] < THREE_BILLION, "index " + samples[k] + " out of range");
        assertEquals(p, order.position(7, epoch, samples[k]), "inverse at position " + p + ", epoch " + epoch);
      }
      Arrays.sort(samples);
      for (int k = 1; k < length; k++) {
        assertNotEquals(samples[k - 1], samples[k], "a sample twice in positions " + start + "+" + length);
      }
      for (int k = 0; k < 2_000; k++) {
        long index = random.nextLong(THREE_BILLION);
        assertEquals(index, order.index(7, epoch, order.position(7, epoch, index)), "sample " + index + " lost");
      }
    }
    assertEquals(THREE_BILLION - 1, order.position(7, 0, order.index(7, 0, THREE_BILLION - 1)));
  }

  @Test
  void shouldMapEachWindowOfThreeBillionOntoExactlyTheSamplesOfItsShards() {
    // 3*10^6 shards of 1,000 samples, windows of 4 shards: a window is 4,000 positions, checked exhaustively.
    ShardedEpochOrder order = ShardedEpochOrder.uniform(THREE_BILLION, 3_000_000, 4);
    SplittableRandom random = new SplittableRandom(17);
    for (int trial = 0; trial < 20; trial++) {
      long epoch = trial < 10 ? 0 : 99;
      int w = random.nextInt(order.windows());
      long from = order.windowStart(1, epoch, w);
      long to = order.windowStart(1, epoch, w + 1);
      assertEquals(4_000, to - from);
      long[] shardFirst = new long[4];
      for (int j = 0; j < 4; j++) {
        shardFirst[j] = order.shardStart(order.shardAt(1, epoch, w * 4 + j));
      }
      BitSet seen = new BitSet(4_000);
      for (long p = from; p < to; p++) {
        long i = order.index(1, epoch, p);
        int j = slotOf(shardFirst, i, 1_000);
        assertTrue(j >= 0, "position " + p + " of window " + w + " gives sample " + i + " of another shard");
        int bit = j * 1_000 + (int) (i - shardFirst[j]);
        assertFalse(seen.get(bit), "sample " + i + " twice in window " + w);
        seen.set(bit);
      }
      assertEquals(4_000, seen.cardinality());
    }
  }

  @Test
  void shouldReadEachWindowFromItsOwnShardsInPermutedShardOrder() {
    ShardedEpochOrder order = ShardedEpochOrder.uniform(100_000, 100, 8);
    assertEquals(13, order.windows());
    for (long epoch = 0; epoch < 2; epoch++) {
      int[] shardSequence = new int[100];
      for (int j = 0; j < 100; j++) {
        shardSequence[j] = order.shardAt(3, epoch, j);
      }
      assertEquals(100, Arrays.stream(shardSequence).distinct().count(), "every shard read once per epoch");
      assertFalse(Arrays.equals(shardSequence, java.util.stream.IntStream.range(0, 100).toArray()),
          "shards in their natural order");
      for (int w = 0; w < order.windows(); w++) {
        Set<Integer> windowShards = new HashSet<>();
        for (int j = w * 8; j < Math.min(100, (w + 1) * 8); j++) {
          windowShards.add(shardSequence[j]);
        }
        Set<Integer> touched = new HashSet<>();
        for (long p = order.windowStart(3, epoch, w); p < order.windowStart(3, epoch, w + 1); p++) {
          assertEquals(w, order.windowOf(3, epoch, p));
          touched.add(order.shardOf(order.index(3, epoch, p)));
        }
        assertEquals(windowShards, touched, "window " + w + " of epoch " + epoch);
      }
      assertEquals(100_000, order.windowStart(3, epoch, order.windows()));
    }
    assertFalse(order.shardAt(3, 0, 0) == order.shardAt(3, 1, 0) && order.shardAt(3, 0, 1) == order.shardAt(3, 1, 1)
        && order.shardAt(3, 0, 2) == order.shardAt(3, 1, 2), "two epochs read the shards in the same order");
  }

  @Test
  void shouldTouchAtMostTwoWindowsOfShardsInAnyRunOfConsecutivePositions() {
    ShardedEpochOrder order = ShardedEpochOrder.uniform(1_000_000, 1_000, 8);
    SplittableRandom random = new SplittableRandom(5);
    for (int trial = 0; trial < 50; trial++) {
      long start = random.nextLong(1_000_000 - 8_000);
      Set<Integer> shards = new HashSet<>();
      for (long p = start; p < start + 8_000; p++) {
        shards.add(order.shardOf(order.index(9, 4, p)));
      }
      assertTrue(shards.size() <= 16, shards.size() + " shards read by 8000 consecutive positions");
    }
  }

  @Test
  void shouldGiveDifferentOrdersForDifferentEpochsAndSeeds() {
    ShardedEpochOrder order = ShardedEpochOrder.uniform(10_000, 10, 2);
    long[] base = prefix(order, 1, 0);
    assertFalse(Arrays.equals(base, prefix(order, 1, 1)));
    assertFalse(Arrays.equals(base, prefix(order, 2, 0)));
    assertArrayEquals(base, prefix(ShardedEpochOrder.uniform(10_000, 10, 2), 1, 0));
  }

  @Test
  void shouldKeepItsPinnedValues() {
    // These values fix which samples make up every step of every run: change them only on purpose.
    ShardedEpochOrder order = ShardedEpochOrder.uniform(THREE_BILLION, 3_000, 16);
    long[] expected = {1_496_740_696L, 2_165_669_457L, 298_339_915L, 2_298_921_218L, 2_555_979_831L, 1_278_426_767L,
        2_905_908_796L, 1_964_746_669L};
    long[] actual = new long[expected.length];
    for (int k = 0; k < actual.length; k++) {
      actual[k] = order.index(42, k % 3, k * 123_456_789L);
    }
    assertArrayEquals(expected, actual, Arrays.toString(actual));
  }

  @Test
  void shouldAnswerTheSameAcrossManyEpochsAndThreads() throws Exception {
    ShardedEpochOrder shared = ShardedEpochOrder.uniform(50_000, 50, 4);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      Future<?>[] futures = new Future<?>[4];
      for (int t = 0; t < 4; t++) {
        int thread = t;
        futures[t] = pool.submit(() -> {
          ShardedEpochOrder own = ShardedEpochOrder.uniform(50_000, 50, 4);
          for (int k = 0; k < 20_000; k++) {
            long epoch = (k + thread) % 5;
            long p = (k * 7_919L + thread) % 50_000;
            assertEquals(own.index(8, epoch, p), shared.index(8, epoch, p));
          }
        });
      }
      for (Future<?> f : futures) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void shouldRejectBadShardsAndWindowsWithAMessage() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new ShardedEpochOrder(new long[] {5}, 0))
        .getMessage().contains("window"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new ShardedEpochOrder(new long[] {0, 0}, 1))
        .getMessage().contains("empty"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new ShardedEpochOrder(new long[] {3, -1}, 1))
        .getMessage().contains("negative"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> ShardedEpochOrder.uniform(10, 11, 1))
        .getMessage().contains("shards"));
    assertThrows(IndexOutOfBoundsException.class, () -> ShardedEpochOrder.uniform(10, 2, 1).index(0, 0, 10));
  }

  private static long[] prefix(ShardedEpochOrder order, long seed, long epoch) {
    long[] out = new long[100];
    for (int p = 0; p < out.length; p++) {
      out[p] = order.index(seed, epoch, p);
    }
    return out;
  }

  /** Which of the shards starting at {@code firsts} (each {@code size} samples) holds sample i, or -1. */
  private static int slotOf(long[] firsts, long i, long size) {
    for (int j = 0; j < firsts.length; j++) {
      if (i >= firsts[j] && i < firsts[j] + size) {
        return j;
      }
    }
    return -1;
  }
}

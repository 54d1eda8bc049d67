package io.vitfleet.feeder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.BitSet;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class EpochOrderTest {
  @ParameterizedTest(name = "N = {0}")
  @ValueSource(longs = {1, 2, 3, 4, 5, 7, 8, 9, 60_000, 1_000_003})
  void shouldVisitEverySampleExactlyOncePerEpoch(long n) {
    EpochOrder order = new EpochOrder(n);
    for (long epoch : new long[] {0, 1}) {
      BitSet seen = new BitSet((int) n);
      for (long p = 0; p < n; p++) {
        long i = order.index(42, epoch, p);
        assertTrue(i >= 0 && i < n, "index " + i + " outside [0, " + n + ")");
        assertFalse(seen.get((int) i), "sample " + i + " seen twice in epoch " + epoch);
        seen.set((int) i);
      }
      assertEquals(n, seen.cardinality());
    }
  }

  @ParameterizedTest(name = "N = {0}")
  @ValueSource(longs = {1, 7, 60_000})
  void shouldInvertIndexWithPosition(long n) {
    EpochOrder order = new EpochOrder(n);
    for (long p = 0; p < n; p++) {
      assertEquals(p, order.position(9, 3, order.index(9, 3, p)));
    }
  }

  @ParameterizedTest(name = "N = {0}")
  @ValueSource(longs = {3_000_000_000L, (1L << 62) - 1, 1L << 62})
  void shouldStayABijectionForBillionsOfSamples(long n) {
    EpochOrder order = new EpochOrder(n);
    SplittableRandom random = new SplittableRandom(7);
    for (int trial = 0; trial < 20_000; trial++) {
      long p = random.nextLong(n);
      long i = order.index(1, 5, p);
      assertTrue(i >= 0 && i < n, "index " + i + " outside [0, " + n + ")");
      assertEquals(p, order.position(1, 5, i));
    }
    assertEquals(n - 1, order.position(1, 5, order.index(1, 5, n - 1)));
  }

  @Test
  void shouldGiveTheSameOrderForTheSameSeedAndEpoch() {
    assertArrayEquals(orderOf(new EpochOrder(1000), 17, 4), orderOf(new EpochOrder(1000), 17, 4));
  }

  @Test
  void shouldGiveUnrelatedOrdersForOtherEpochsAndSeeds() {
    EpochOrder order = new EpochOrder(1000);
    long[] base = orderOf(order, 17, 4);
    long[][] others = {orderOf(order, 17, 5), orderOf(order, 17, 0), orderOf(order, 18, 4), orderOf(order, -17, 4)};
    for (long[] other : others) {
      int samePlace = 0;
      for (int p = 0; p < base.length; p++) {
        samePlace += base[p] == other[p] ? 1 : 0;
      }
      // Two random permutations agree at about one position; 10 would be wildly unlikely.
      assertTrue(samePlace < 10, samePlace + " positions agree");
    }
  }

  @Test
  void shouldSpreadTheFirstPositionsOverTheWholeDataSet() {
    EpochOrder order = new EpochOrder(60_000);
    int[] deciles = new int[10];
    int adjacent = 0;
    long previous = -2;
    for (long p = 0; p < 6000; p++) {
      long i = order.index(0, 0, p);
      deciles[(int) (i / 6000)]++;
      adjacent += Math.abs(i - previous) == 1 ? 1 : 0;
      previous = i;
    }
    for (int count : deciles) {
      assertTrue(Math.abs(count - 600) < 100, "decile counts " + java.util.Arrays.toString(deciles));
    }
    assertTrue(adjacent < 5, adjacent + " consecutive positions hold neighbouring samples");
  }

  @Test
  void shouldKeepTheOrderPinnedAcrossVersionsBecauseRunsDependOnIt() {
    assertArrayEquals(new long[] {2, 6, 5, 0, 8, 3, 9, 1, 4, 7}, orderOf(new EpochOrder(10), 0, 0));
    EpochOrder fashion = new EpochOrder(60_000);
    assertArrayEquals(new long[] {31437, 25003, 20243},
        new long[] {fashion.index(2024, 0, 0), fashion.index(2024, 1, 0), fashion.index(2024, 7, 59_999)});
  }

  @Test
  void shouldRejectPositionsOutsideTheEpochAndUnsupportedSizes() {
    EpochOrder order = new EpochOrder(5);
    assertThrows(IndexOutOfBoundsException.class, () -> order.index(0, 0, 5));
    assertThrows(IndexOutOfBoundsException.class, () -> order.index(0, 0, -1));
    assertThrows(IllegalArgumentException.class, () -> new EpochOrder(0));
    assertThrows(IllegalArgumentException.class, () -> new EpochOrder((1L << 62) + 1));
  }

  private static long[] orderOf(EpochOrder order, long seed, long epoch) {
    long[] indices = new long[(int) order.size()];
    for (int p = 0; p < indices.length; p++) {
      indices[p] = order.index(seed, epoch, p);
    }
    return indices;
  }
}

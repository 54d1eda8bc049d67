package io.vitfleet.feeder.order;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class OrderCheckTest {

  /** Not a permutation: positions 2k and 2k+1 both give sample 2k, so odd samples go missing. */
  private static EpochPermutation pairs(long n) {
    return new EpochPermutation() {
      @Override
      public long size() {
        return n;
      }

      @Override
      public long index(long seed, long epoch, long position) {
        return position & ~1L;
      }

      @Override
      public long position(long seed, long epoch, long index) {
        return index;
      }
    };
  }

  @Test
  void shouldFindNeitherDuplicatesNorMissingSamplesInAFullCheckOfTheShardedOrder() {
    OrderCheck.Result r = OrderCheck.full(ShardedEpochOrder.uniform(1_000_003, 101, 8), 5, 1, 2);
    assertEquals("full", r.mode());
    assertEquals(1_000_003, r.checked());
    assertEquals(0, r.duplicates());
    assertEquals(0, r.missing());
    assertTrue(r.exactlyOnce());
  }

  @Test
  void shouldCountTheDuplicatesAndMissingSamplesOfABrokenOrder() {
    OrderCheck.Result full = OrderCheck.full(pairs(1_000), 0, 0, 2);
    assertEquals(500, full.duplicates());
    assertEquals(500, full.missing());
    assertFalse(full.exactlyOnce());

    OrderCheck.Result sampled = OrderCheck.sampled(pairs(3_000_000_000L), 0, 0, 10_000, 10, 1, 2);
    assertTrue(sampled.duplicates() > 0, sampled.toString());
    assertTrue(sampled.missing() > 0, sampled.toString());
  }

  @Test
  void shouldPassASampledCheckOfThreeBillionSamples() {
    OrderCheck.Result r = OrderCheck.sampled(ShardedEpochOrder.uniform(3_000_000_000L, 4_096, 16), 7, 3, 200_000, 8,
        42, 2);
    assertEquals("sampled", r.mode());
    assertEquals(200_000, r.checked());
    assertEquals(200_000, r.inverseChecked());
    assertTrue(r.exactlyOnce(), r.toString());
  }

  @Test
  void shouldCoverATinyOrderWhollyWhenSampledWithMorePositionsThanSamples() {
    OrderCheck.Result r = OrderCheck.sampled(ShardedEpochOrder.uniform(5, 2, 1), 1, 0, 100, 16, 3, 1);
    assertEquals(5, r.checked());
    assertTrue(r.exactlyOnce(), r.toString());
  }
}

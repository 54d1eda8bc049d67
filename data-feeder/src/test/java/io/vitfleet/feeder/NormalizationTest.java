package io.vitfleet.feeder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class NormalizationTest {
  @Test
  void shouldMapPixelsToMinusOneToOneByDefaultWithExactEnds() {
    Normalization n = Normalization.minusOneToOne();
    assertEquals(-1f, n.apply(0));
    assertEquals(1f, n.apply(255));
    assertEquals((float) (128 / 127.5 - 1), n.apply(128));
    for (int x = 1; x < 256; x++) {
      assertTrue(n.apply(x) > n.apply(x - 1), "not increasing at " + x);
    }
  }

  @Test
  void shouldMapPixelsToZeroToOneInUnitRange() {
    Normalization n = Normalization.unitRange();
    assertEquals(0f, n.apply(0));
    assertEquals(1f, n.apply(255));
    assertEquals((float) (51 / 255.0), n.apply(51));
  }

  @Test
  void shouldStandardiseWithMeanAndStdOfTheUnitScaledPixels() {
    Normalization n = Normalization.meanStd(0.5, 0.25);
    assertEquals(-2f, n.apply(0));
    assertEquals(2f, n.apply(255));
    assertEquals((float) ((100 / 255.0 - 0.5) / 0.25), n.apply(100));
  }

  @Test
  void shouldRejectANonPositiveStd() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Normalization.meanStd(0.3, 0));
    assertTrue(e.getMessage().contains("std = 0.0"), e.getMessage());
  }
}

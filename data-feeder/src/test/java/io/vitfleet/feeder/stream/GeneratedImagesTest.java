package io.vitfleet.feeder.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.feeder.augment.ImageHeader;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class GeneratedImagesTest {
  @Test
  void shouldGiveTheSameBytesForAnIndexEveryTimeAndOtherBytesForOthers() {
    GeneratedImages a = new GeneratedImages(100, 20, 30, 10);
    GeneratedImages b = new GeneratedImages(100, 20, 30, 10);
    for (long i = 0; i < 6; i++) {
      assertArrayEquals(a.encoded(i), b.encoded(i));
      assertEquals(a.label(i), b.label(i));
      assertFalse(Arrays.equals(a.encoded(i), a.encoded(i + 1)));
    }
  }

  @Test
  void shouldMixJpegsAndPngsOfTheDeclaredSizeWithLabelsInRange() {
    GeneratedImages data = new GeneratedImages(1_000_000_000L, 20, 30, 7);
    for (long i = 999_999_990L; i < 1_000_000_000L; i++) {
      ImageHeader h = ImageHeader.read(data.encoded(i));
      assertEquals(i % 3 == 0 ? ImageHeader.Format.JPEG : ImageHeader.Format.PNG, h.format());
      assertEquals(20, h.height());
      assertEquals(30, h.width());
      assertTrue(data.label(i) >= 0 && data.label(i) < 7);
    }
  }
}

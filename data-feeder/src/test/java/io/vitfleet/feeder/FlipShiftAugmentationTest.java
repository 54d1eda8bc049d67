package io.vitfleet.feeder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class FlipShiftAugmentationTest {

  static float[] ramp(int n) {
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = i;
    }
    return a;
  }

  @Test
  void shouldGiveTheSamePixelsForTheSameKey() {
    FlipShiftAugmentation aug = new FlipShiftAugmentation(8, 8, 1, 2, true, -1f);
    float[] a = ramp(64);
    float[] b = ramp(64);
    aug.apply(7, 3, 12345, a, 0);
    aug.apply(7, 3, 12345, b, 0);
    assertArrayEquals(a, b);
  }

  @Test
  void shouldVaryWithTheKeyAndKeepPixelValuesFromTheImage() {
    FlipShiftAugmentation aug = new FlipShiftAugmentation(8, 8, 1, 2, true, -1f);
    int changed = 0;
    for (long i = 0; i < 50; i++) {
      float[] a = ramp(64);
      aug.apply(1, 0, i, a, 0);
      if (!Arrays.equals(a, ramp(64))) {
        changed++;
      }
      for (float v : a) {
        assertTrue(v == -1f || (v >= 0 && v < 64 && v == Math.rint(v)), "pixel " + v + " comes from the image");
      }
    }
    assertTrue(changed > 30, "most keys change the image, got " + changed + " of 50");
  }

  @Test
  void shouldFlipExactlyWhenOnlyFlippingIsAllowed() {
    FlipShiftAugmentation aug = new FlipShiftAugmentation(2, 3, 1, 0, true, -1f);
    boolean sawFlip = false;
    boolean sawSame = false;
    for (long i = 0; i < 40; i++) {
      float[] a = ramp(6);
      aug.apply(0, 0, i, a, 0);
      if (Arrays.equals(a, new float[] {2, 1, 0, 5, 4, 3})) {
        sawFlip = true;
      } else {
        assertArrayEquals(ramp(6), a, "an image is either flipped or unchanged");
        sawSame = true;
      }
    }
    assertTrue(sawFlip && sawSame);
  }

  @Test
  void shouldAugmentOnlyTheImageAtTheOffset() {
    FlipShiftAugmentation aug = new FlipShiftAugmentation(4, 4, 1, 1, true, -1f);
    float[] buf = ramp(48);
    aug.apply(0, 0, 99, buf, 16);
    assertArrayEquals(Arrays.copyOfRange(ramp(48), 0, 16), Arrays.copyOfRange(buf, 0, 16));
    assertArrayEquals(Arrays.copyOfRange(ramp(48), 32, 48), Arrays.copyOfRange(buf, 32, 48));
  }

  @Test
  void shouldRejectAShiftAsLargeAsTheImage() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new FlipShiftAugmentation(4, 4, 1, 4, true, 0f));
    assertTrue(e.getMessage().contains("max_shift"));
    assertFalse(new FlipShiftAugmentation(4, 4, 1, 0, true, 0f).isIdentity());
    assertEquals(true, new FlipShiftAugmentation(4, 4, 1, 0, false, 0f).isIdentity());
  }
}

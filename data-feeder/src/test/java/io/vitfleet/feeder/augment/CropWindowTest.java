package io.vitfleet.feeder.augment;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class CropWindowTest {
  private static final AugmentSpec TRAINING = AugmentSpec.training(224, 3);

  @Test
  void shouldDrawWindowsInsideTheImageWithAreaAndAspectInRange() {
    int height = 375;
    int width = 500;
    double minArea = Double.MAX_VALUE;
    double maxArea = 0;
    for (long index = 0; index < 20_000; index++) {
      CropWindow w = CropWindow.sample(TRAINING, AugmentKey.of(1, 0, index), height, width);
      assertTrue(w.top() + w.height() <= height && w.left() + w.width() <= width, "outside the image: " + w);
      double area = (double) w.height() * w.width() / (height * width);
      double aspect = (double) w.width() / w.height();
      // Rounding the sides to whole pixels moves area and aspect by a pixel's worth.
      assertTrue(area >= 0.05 * 0.97 && area <= 1.0, "area " + area + " of " + w);
      assertTrue(aspect >= 0.75 * 0.97 && aspect <= 4.0 / 3 * 1.03, "aspect " + aspect + " of " + w);
      minArea = Math.min(minArea, area);
      maxArea = Math.max(maxArea, area);
    }
    assertTrue(minArea < 0.06, "smallest area " + minArea);
    assertTrue(maxArea > 0.9, "largest area " + maxArea);
  }

  @Test
  void shouldFlipAboutHalfTheSamples() {
    int flips = 0;
    for (long index = 0; index < 10_000; index++) {
      flips += CropWindow.sample(TRAINING, AugmentKey.of(3, 1, index), 224, 224).flip() ? 1 : 0;
    }
    assertTrue(flips > 4_800 && flips < 5_200, flips + " flips in 10000");
  }

  @Test
  void shouldFallBackToACentreCropWhenNoWindowFits() {
    // 1000 rows, 10 columns: no window of aspect >= 3/4 and area >= 5% fits, so the centre crop, clamped to 3/4.
    CropWindow w = CropWindow.sample(TRAINING, AugmentKey.of(1, 0, 0), 1_000, 10);
    assertEquals(10, w.width());
    assertEquals(13, w.height());
    assertEquals((1_000 - 13) / 2, w.top());
    assertEquals(0, w.left());
  }

  @Test
  void shouldDrawTheSameWindowForTheSameKeyAndOthersForOtherKeys() {
    assertEquals(CropWindow.sample(TRAINING, AugmentKey.of(5, 2, 77), 480, 640),
        CropWindow.sample(TRAINING, AugmentKey.of(5, 2, 77), 480, 640));
    Set<CropWindow> windows = new HashSet<>();
    for (long index = 0; index < 100; index++) {
      windows.add(CropWindow.sample(TRAINING, AugmentKey.of(5, 2, index), 480, 640));
    }
    assertTrue(windows.size() > 95, windows.size() + " distinct windows of 100");
    assertNotEquals(CropWindow.sample(TRAINING, AugmentKey.of(5, 2, 77), 480, 640),
        CropWindow.sample(TRAINING, AugmentKey.of(5, 3, 77), 480, 640), "a new epoch, a new window");
  }

  @Test
  void shouldKeepItsPinnedWindow() {
    // The windows are part of every run's reproducibility: change them only on purpose.
    assertEquals(new CropWindow(6, 234, 426, 387, false),
        CropWindow.sample(TRAINING, AugmentKey.of(1, 2, 3), 480, 640));
    assertEquals(new CropWindow(3, 250, 476, 378, true),
        CropWindow.sample(TRAINING, AugmentKey.of(1, 2, 4), 480, 640));
  }

  @Test
  void shouldTakeTheWholeImageWithoutFlipForEvaluation() {
    AugmentSpec eval = AugmentSpec.evaluation(224, 3);
    for (long index = 0; index < 100; index++) {
      CropWindow w = CropWindow.sample(eval, AugmentKey.of(1, 0, index), 300, 200);
      assertEquals(CropWindow.whole(300, 200), w);
      assertFalse(w.flip());
    }
  }

  @Test
  void shouldRejectSettingsOutsideTheirRanges() {
    assertThrows(IllegalArgumentException.class, () -> AugmentSpec.training(0, 3));
    assertThrows(IllegalArgumentException.class, () -> AugmentSpec.training(224, 2));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> new AugmentSpec(224, 3, true, 0.5, 0.2, 0.75, 1.33, 10, true)).getMessage().contains("area"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> new AugmentSpec(224, 3, true, 0.05, 1, 2, 1, 10, true)).getMessage().contains("aspect"));
  }
}

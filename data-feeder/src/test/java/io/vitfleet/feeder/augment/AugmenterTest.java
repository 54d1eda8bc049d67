package io.vitfleet.feeder.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class AugmenterTest {
  private static final int S = 32;
  private static Augmenter identity;
  private static Augmenter training;

  @BeforeAll
  static void sessions() {
    identity = new Augmenter(AugmentSpec.evaluation(S, 3), 1);
    training = new Augmenter(AugmentSpec.training(S, 3), 1);
  }

  @AfterAll
  static void close() {
    identity.close();
    training.close();
  }

  @Test
  void shouldDecodeAPngToExactlyItsPixels() {
    byte[] rgb = TestImages.noise(S, S, 1);
    float[] out = new float[S * S * 3];
    CropWindow w = identity.augment(TestImages.png(rgb, S, S), 99, out, 0);
    assertEquals(CropWindow.whole(S, S), w);
    for (int i = 0; i < rgb.length; i++) {
      assertEquals((rgb[i] & 0xff) / 127.5f - 1f, out[i], "value " + i);
    }
  }

  @Test
  void shouldCutTheWindowOutOfAPngExactly() {
    int h = 45;
    int w = 50;
    byte[] rgb = TestImages.noise(h, w, 2);
    byte[] png = TestImages.png(rgb, h, w);
    float[] out = new float[S * S * 3];
    identity.apply(png, ImageHeader.read(png), new CropWindow(7, 11, S, S, false), out, 0);
    for (int y = 0; y < S; y++) {
      for (int x = 0; x < S; x++) {
        for (int c = 0; c < 3; c++) {
          int expected = rgb[((y + 7) * w + x + 11) * 3 + c] & 0xff;
          assertEquals(expected, TestImages.pixel(out[(y * S + x) * 3 + c]), "pixel " + y + "," + x + "," + c);
        }
      }
    }
  }

  @Test
  void shouldDecodeAJpegCloseToTheOriginalPixels() {
    byte[] rgb = TestImages.smooth(S, S, 3);
    float[] out = new float[S * S * 3];
    identity.augment(TestImages.jpeg(rgb, S, S, 0.95f), 1, out, 0);
    double sum = 0;
    int worst = 0;
    for (int i = 0; i < rgb.length; i++) {
      int error = Math.abs(TestImages.pixel(out[i]) - (rgb[i] & 0xff));
      sum += error;
      worst = Math.max(worst, error);
    }
    assertTrue(sum / rgb.length < 2.5, "mean error " + sum / rgb.length);
    assertTrue(worst < 40, "largest error " + worst);
  }

  @Test
  void shouldGiveByteIdenticalOutputForTheSameKeyInAnotherSession() {
    byte[] jpeg = TestImages.jpeg(TestImages.smooth(60, 80, 4), 60, 80, 0.9f);
    byte[] png = TestImages.png(TestImages.noise(60, 80, 5), 60, 80);
    try (Augmenter other = new Augmenter(AugmentSpec.training(S, 3), 1)) {
      for (byte[] image : new byte[][] {jpeg, png}) {
        for (long index = 0; index < 5; index++) {
          long key = AugmentKey.of(7, 3, index);
          float[] a = new float[S * S * 3];
          float[] b = new float[S * S * 3];
          training.augment(image, key, a, 0);
          other.augment(image, key, b, 0);
          assertArrayEquals(a, b, "key of index " + index);
        }
      }
    }
  }

  @Test
  void shouldGiveDifferentOutputsForDifferentKeys() {
    byte[] jpeg = TestImages.jpeg(TestImages.smooth(60, 80, 6), 60, 80, 0.9f);
    float[][] outs = new float[8][S * S * 3];
    for (int k = 0; k < outs.length; k++) {
      training.augment(jpeg, AugmentKey.of(1, 0, k), outs[k], 0);
    }
    for (int a = 0; a < outs.length; a++) {
      for (int b = a + 1; b < outs.length; b++) {
        assertFalse(Arrays.equals(outs[a], outs[b]), "samples " + a + " and " + b + " augmented alike");
      }
    }
  }

  @Test
  void shouldMirrorTheImageWhenFlippedSoThatTheMirrorOfAFlipIsTheImage() {
    byte[] rgb = TestImages.noise(40, 48, 7);
    for (byte[] image : new byte[][] {TestImages.png(rgb, 40, 48), TestImages.jpeg(rgb, 40, 48, 0.9f)}) {
      ImageHeader header = ImageHeader.read(image);
      float[] plain = new float[S * S * 3];
      float[] flipped = new float[S * S * 3];
      // 30x37 to 32x32: interpolation weights that are not exact binary fractions.
      identity.apply(image, header, new CropWindow(3, 5, 30, 37, false), plain, 0);
      identity.apply(image, header, new CropWindow(3, 5, 30, 37, true), flipped, 0);
      assertTrue(maxDifference(plain, flipped) > 0.5, header.format() + ": the flip changed nothing");
      // The flip is applied before the resize, whose rounding is not mirror-symmetric: equal to a few ulps.
      assertTrue(maxDifference(plain, mirror(flipped)) < 1e-5, header.format() + ": the mirror of the flipped image "
          + "differs by " + maxDifference(plain, mirror(flipped)));
      assertTrue(maxDifference(flipped, mirror(plain)) < 1e-5, header.format() + ": the flip of the plain image");
    }
  }

  private static double maxDifference(float[] a, float[] b) {
    double worst = 0;
    for (int i = 0; i < a.length; i++) {
      worst = Math.max(worst, Math.abs(a[i] - b[i]));
    }
    return worst;
  }

  @Test
  void shouldWriteAtTheOffsetAndNowhereElse() {
    byte[] png = TestImages.png(TestImages.noise(S, S, 8), S, S);
    float[] out = new float[3 * S * S * 3];
    Arrays.fill(out, 7f);
    identity.augment(png, 0, out, S * S * 3);
    assertEquals(7f, out[S * S * 3 - 1]);
    assertEquals(7f, out[2 * S * S * 3]);
    assertTrue(out[S * S * 3] <= 1f);
  }

  @Test
  void shouldConvertAGreyImageToThreeChannelsAndBack() {
    byte[] rgb = TestImages.noise(S, S, 9);
    for (int i = 0; i < rgb.length; i += 3) {
      rgb[i + 1] = rgb[i];
      rgb[i + 2] = rgb[i];
    }
    byte[] png = TestImages.png(rgb, S, S);
    float[] out = new float[S * S];
    try (Augmenter grey = new Augmenter(AugmentSpec.evaluation(S, 1), 1)) {
      grey.augment(png, 0, out, 0);
    }
    for (int p = 0; p < S * S; p++) {
      assertEquals(rgb[p * 3] & 0xff, TestImages.pixel(out[p]), "pixel " + p);
    }
  }

  @Test
  void shouldReportDataTheDecoderRejectsAsAnImageFormatProblem() {
    byte[] jpeg = TestImages.jpeg(TestImages.smooth(64, 64, 10), 64, 64, 0.9f);
    byte[] cut = Arrays.copyOf(jpeg, jpeg.length / 2);
    float[] out = new float[S * S * 3];
    ImageFormatException e = assertThrows(ImageFormatException.class, () -> identity.augment(cut, 0, out, 0));
    assertTrue(e.getMessage().contains("JPEG"), e.getMessage());
    byte[] png = TestImages.png(TestImages.noise(S, S, 11), S, S);
    png[png.length / 2] ^= 0x5a;
    assertThrows(ImageFormatException.class, () -> identity.augment(png, 0, out, 0));
  }

  /** Reverses each row of an S x S x 3 image. */
  private static float[] mirror(float[] image) {
    float[] out = new float[image.length];
    for (int y = 0; y < S; y++) {
      for (int x = 0; x < S; x++) {
        System.arraycopy(image, (y * S + x) * 3, out, (y * S + S - 1 - x) * 3, 3);
      }
    }
    return out;
  }
}

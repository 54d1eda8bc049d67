package io.vitfleet.feeder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Files;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The real Fashion-MNIST files at {@link FashionMnist#DEFAULT_DIR}. CI installs the package; without it these tests
 * fail (not skip) with the install command, so a missing data set is never mistaken for a passing build.
 */
class FashionMnistInstalledTest {
  private static ImageDataset train;
  private static ImageDataset test;

  @BeforeAll
  static void load() {
    if (!Files.isDirectory(FashionMnist.DEFAULT_DIR)) {
      fail("Fashion-MNIST is not installed at " + FashionMnist.DEFAULT_DIR + "; " + FashionMnist.INSTALL_HINT);
    }
    train = FashionMnist.train();
    test = FashionMnist.test();
  }

  @Test
  void shouldHold60000TrainingAnd10000TestImagesOf28By28() {
    assertEquals(FashionMnist.TRAIN_SIZE, train.size());
    assertEquals(FashionMnist.TEST_SIZE, test.size());
    for (ImageDataset d : new ImageDataset[] {train, test}) {
      assertEquals(28, d.rows());
      assertEquals(28, d.cols());
      assertEquals(1, d.channels());
      assertEquals(10, d.classes());
    }
  }

  @Test
  void shouldHaveEveryClassEquallyOften() {
    for (int count : train.classCounts()) {
      assertEquals(6000, count);
    }
    for (int count : test.classCounts()) {
      assertEquals(1000, count);
    }
  }

  @Test
  void shouldMatchThePublishedPixelMeanAndStd() {
    double sum = 0;
    double sumSquares = 0;
    long n = (long) train.size() * train.pixelsPerImage();
    for (int i = 0; i < train.size(); i++) {
      for (int p = 0; p < train.pixelsPerImage(); p++) {
        double x = train.pixel(i, p) / 255.0;
        sum += x;
        sumSquares += x * x;
      }
    }
    double mean = sum / n;
    double std = Math.sqrt(sumSquares / n - mean * mean);
    assertEquals(FashionMnist.TRAIN_PIXEL_MEAN, mean, 5e-4);
    assertEquals(FashionMnist.TRAIN_PIXEL_STD, std, 5e-4);
  }

  @Test
  void shouldHaveImagesThatAreNotBlank() {
    int nonZero = 0;
    for (int p = 0; p < train.pixelsPerImage(); p++) {
      nonZero += train.pixel(0, p) != 0 ? 1 : 0;
    }
    assertTrue(nonZero > 50, "first training image has only " + nonZero + " non-zero pixels");
  }
}

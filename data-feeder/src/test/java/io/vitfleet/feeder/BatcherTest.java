package io.vitfleet.feeder;

import static io.vitfleet.feeder.IdxFileTest.assertContains;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class BatcherTest {
  /** 6 images of 2x3 whose pixel p of image i is (i * 7 + p) mod 256; label i mod 4. */
  static ImageDataset tinyDataset() {
    int n = 6;
    byte[] labels = new byte[n];
    for (int i = 0; i < n; i++) {
      labels[i] = (byte) (i % 4);
    }
    return new ImageDataset("tiny", IdxFixtures.imageElements(n, 2, 3), labels, 2, 3, 1, 4);
  }

  private final Batcher batcher = new Batcher(tinyDataset(), Normalization.unitRange());

  @Test
  void shouldFillARangeInOrderNormalisedWithLabels() {
    float[] images = new float[4 * 6];
    int[] labels = new int[4];
    batcher.fillRange(2, 3, images, labels);
    for (int slot = 0; slot < 3; slot++) {
      for (int p = 0; p < 6; p++) {
        assertEquals(((2 + slot) * 7 + p) / 255f, images[slot * 6 + p], 1e-7);
      }
    }
    assertArrayEquals(new int[] {2, 3, 0, 0}, labels);
    assertArrayEquals(new float[6], Arrays.copyOfRange(images, 18, 24), "slot beyond count untouched");
  }

  @Test
  void shouldFillAnyListOfIndices() {
    float[] images = new float[2 * 6];
    int[] labels = new int[2];
    batcher.fill(new int[] {9, 5, 1, 9}, 1, 2, images, labels);
    assertArrayEquals(new int[] {1, 1}, labels);
    assertEquals((5 * 7) / 255f, images[0], 1e-7);
    assertEquals((1 * 7 + 5) / 255f, images[11], 1e-7);
  }

  @Test
  void shouldRejectBuffersTooSmallNamingTheSizes() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> batcher.fillRange(0, 3, new float[17], new int[3]));
    assertContains(e, "3 images of 6 floats", "images has 17 floats (needs 18)");
  }

  @Test
  void shouldRejectIndicesOutsideTheDataSet() {
    assertThrows(IndexOutOfBoundsException.class, () -> batcher.fillRange(4, 3, new float[18], new int[3]));
    assertThrows(IndexOutOfBoundsException.class, () -> batcher.put(6, 0, new float[6], new int[1]));
  }

  @Test
  void shouldRejectADatasetWhoseShapesDisagree() {
    assertContains(assertThrows(IllegalArgumentException.class,
        () -> new ImageDataset("odd", new byte[10], new byte[2], 2, 3, 1, 4)), "odd", "10 pixels", "2 images of 2x3x1");
    assertContains(assertThrows(IllegalArgumentException.class,
        () -> new ImageDataset("bad", new byte[6], new byte[] {4}, 2, 3, 1, 4)), "label 4 at index 0 of bad");
  }
}

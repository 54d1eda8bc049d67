package io.vitfleet.feeder.augment;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class DecodePoolTest {
  private static final int S = 24;
  private static final int COUNT = 12;
  private static final long SEED = 17;

  /** A microbatch of PNGs and JPEGs of different sizes. */
  private static byte[][] microbatch() {
    byte[][] encoded = new byte[COUNT][];
    for (int slot = 0; slot < COUNT; slot++) {
      int h = 30 + 3 * slot;
      int w = 50 - 2 * slot;
      encoded[slot] = slot % 2 == 0 ? TestImages.png(TestImages.noise(h, w, slot), h, w)
          : TestImages.jpeg(TestImages.smooth(h, w, slot), h, w, 0.9f);
    }
    return encoded;
  }

  @Test
  void shouldFillEachSlotAsOneAugmenterWouldWhateverTheNumberOfWorkers() {
    AugmentSpec spec = AugmentSpec.training(S, 3);
    byte[][] encoded = microbatch();
    long[] indices = new long[COUNT];
    long[] epochs = new long[COUNT];
    for (int slot = 0; slot < COUNT; slot++) {
      indices[slot] = 1_000_000_000L + 37L * slot;
      epochs[slot] = slot < 8 ? 4 : 5;
    }
    float[] expected = new float[COUNT * spec.floatsPerImage()];
    try (Augmenter one = new Augmenter(spec, 1)) {
      for (int slot = 0; slot < COUNT; slot++) {
        one.augment(encoded[slot], AugmentKey.of(SEED, epochs[slot], indices[slot]), expected,
            slot * spec.floatsPerImage());
      }
    }
    for (int workers : new int[] {1, 3, 5}) {
      try (DecodePool pool = new DecodePool(spec, workers, 1)) {
        for (int repeat = 0; repeat < 3; repeat++) {
          float[] out = new float[COUNT * spec.floatsPerImage()];
          assertEquals(List.of(), pool.augment(encoded, SEED, epochs, indices, COUNT, out));
          assertArrayEquals(expected, out, workers + " workers, repeat " + repeat);
        }
      }
    }
  }

  @Test
  void shouldZeroFillAndReportTheSlotsItCannotDecode() {
    AugmentSpec spec = AugmentSpec.evaluation(S, 3);
    byte[][] encoded = microbatch();
    encoded[2] = "not an image".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    encoded[7] = Arrays.copyOf(encoded[7], encoded[7].length / 3);
    long[] indices = new long[COUNT];
    for (int slot = 0; slot < COUNT; slot++) {
      indices[slot] = 100 + slot;
    }
    float[] out = new float[COUNT * spec.floatsPerImage()];
    Arrays.fill(out, 9f);
    try (DecodePool pool = new DecodePool(spec, 2, 1)) {
      List<SampleFailure> failures = pool.augment(encoded, SEED, new long[COUNT], indices, COUNT, out);
      assertEquals(2, failures.size(), failures.toString());
      assertEquals(2, failures.get(0).slot());
      assertEquals(102, failures.get(0).index());
      assertTrue(failures.get(0).reason().contains("neither a JPEG nor a PNG"), failures.get(0).reason());
      assertEquals(7, failures.get(1).slot());
      int floats = spec.floatsPerImage();
      for (int slot = 0; slot < COUNT; slot++) {
        float[] image = Arrays.copyOfRange(out, slot * floats, (slot + 1) * floats);
        boolean zero = Arrays.equals(image, new float[floats]);
        assertEquals(slot == 2 || slot == 7, zero, "slot " + slot);
        assertTrue(image[0] >= -1f && image[0] <= 1f, "slot " + slot + " left unwritten");
      }
    }
  }

  @Test
  void shouldRejectABufferTooSmallForTheMicrobatch() {
    AugmentSpec spec = AugmentSpec.evaluation(S, 3);
    try (DecodePool pool = new DecodePool(spec, 1, 1)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> pool.augment(microbatch(), 0, new long[COUNT], new long[COUNT], COUNT, new float[10]));
      assertTrue(e.getMessage().contains("need " + COUNT * spec.floatsPerImage()), e.getMessage());
    }
    assertThrows(IllegalArgumentException.class, () -> new DecodePool(spec, 0, 1));
  }
}

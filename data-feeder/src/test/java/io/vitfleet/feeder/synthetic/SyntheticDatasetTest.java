package io.vitfleet.feeder.synthetic;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.feeder.source.ImageFormat;
import io.vitfleet.feeder.source.ImageShape;
import io.vitfleet.feeder.source.SampleRead;
import io.vitfleet.feeder.source.SampleStatus;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.SplittableRandom;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

class SyntheticDatasetTest {
  private static final long LAST = SyntheticDataset.DEFAULT_SIZE - 1;

  @Test
  void shouldDefaultToThreeBillionSamples() {
    SyntheticDataset data = SyntheticDataset.defaults();
    assertEquals(3_000_000_000L, data.size());
    assertEquals(SyntheticDataset.DEFAULT_CLASSES, data.classes());
    long[] shards = data.shardSizes();
    assertEquals(data.size(), Arrays.stream(shards).sum());
    assertEquals(2862, shards.length);
    assertEquals(SyntheticDataset.VIRTUAL_SHARD_SAMPLES, shards[0]);
  }

  @Test
  void shouldGenerateTheSameBytesForTheSameIndexInAnyInstance() {
    SyntheticDataset a = SyntheticDataset.defaults();
    SyntheticDataset b = SyntheticDataset.defaults();
    for (long i : new long[] {0, 1, 123_456_789, 2_147_483_648L, LAST}) {
      SampleRead x = a.read(i);
      SampleRead y = b.read(i);
      assertEquals(SampleStatus.VALID, x.status());
      assertEquals(i, x.index());
      assertEquals(x.label(), y.label());
      assertArrayEquals(x.image(), y.image());
    }
  }

  @Test
  void shouldGiveDifferentSamplesDifferentImages() {
    SyntheticDataset data = SyntheticDataset.defaults();
    assertFalse(Arrays.equals(data.read(LAST).image(), data.read(LAST - 1).image()));
  }

  @Test
  void shouldSpreadLabelsEvenlyOverTheClasses() {
    SyntheticDataset data = new SyntheticDataset(SyntheticDataset.DEFAULT_SIZE, 10, SyntheticDataset.DEFAULT_SHAPE,
        SyntheticDataset.Encoding.RAW, 0);
    int[] counts = new int[10];
    SplittableRandom random = new SplittableRandom(3);
    for (int k = 0; k < 100_000; k++) {
      counts[data.label(random.nextLong(data.size()))]++;
    }
    for (int c = 0; c < 10; c++) {
      assertEquals(10_000, counts[c], 500, "class " + c + ": " + Arrays.toString(counts));
    }
  }

  @Test
  void shouldEncodeAsAPngThatDecodesToTheRawPixels() throws IOException {
    ImageShape shape = new ImageShape(24, 20, 3);
    SyntheticDataset png = new SyntheticDataset(1_000_000, 7, shape, SyntheticDataset.Encoding.PNG, 0);
    SyntheticDataset raw = new SyntheticDataset(1_000_000, 7, shape, SyntheticDataset.Encoding.RAW, 0);
    SampleRead encoded = png.read(999_999);
    SampleRead pixels = raw.read(999_999);
    assertEquals(ImageFormat.PNG, encoded.format());
    assertEquals(ImageFormat.RAW, pixels.format());
    assertEquals(shape.pixels(), pixels.image().length);
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(encoded.image()));
    int rgb = image.getRGB(5, 3);
    int p = (3 * 20 + 5) * 3;
    assertEquals(pixels.image()[p] & 0xff, (rgb >> 16) & 0xff);
    assertEquals(pixels.image()[p + 1] & 0xff, (rgb >> 8) & 0xff);
    assertEquals(pixels.image()[p + 2] & 0xff, rgb & 0xff);
  }

  @Test
  void shouldWriteRawPixelsIntoACallerBufferAtAnOffset() {
    SyntheticDataset data = new SyntheticDataset(100, 3, new ImageShape(4, 4, 1), SyntheticDataset.Encoding.RAW, 0);
    byte[] buffer = new byte[40];
    data.pixels(42, buffer, 8);
    assertArrayEquals(data.read(42).image(), Arrays.copyOfRange(buffer, 8, 24));
    assertEquals(0, buffer[7]);
    assertEquals(0, buffer[24]);
  }

  @Test
  void shouldMakeTheRequestedShareOfSamplesInvalidAndAlwaysTheSameOnes() {
    SyntheticDataset data = new SyntheticDataset(SyntheticDataset.DEFAULT_SIZE, 10, new ImageShape(2, 2, 1),
        SyntheticDataset.Encoding.RAW, 10_000);
    int invalid = 0;
    long firstInvalid = -1;
    for (long i = LAST - 100_000; i <= LAST; i++) {
      if (!data.read(i).isValid()) {
        invalid++;
        firstInvalid = firstInvalid < 0 ? i : firstInvalid;
      }
    }
    assertEquals(1_000, invalid, 150);
    SampleRead bad = data.read(firstInvalid);
    assertEquals(SampleStatus.BAD_DATA_CRC, bad.status());
    assertTrue(data.isInjectedInvalid(firstInvalid));
  }

  @Test
  void shouldRejectIndicesOutsideTheDataSet() {
    SyntheticDataset data = SyntheticDataset.defaults();
    assertThrows(IndexOutOfBoundsException.class, () -> data.read(SyntheticDataset.DEFAULT_SIZE));
    assertThrows(IndexOutOfBoundsException.class, () -> data.read(-1));
  }
}

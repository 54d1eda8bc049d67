package io.vitfleet.feeder;

import static io.vitfleet.feeder.IdxFixtures.gzip;
import static io.vitfleet.feeder.IdxFixtures.idx;
import static io.vitfleet.feeder.IdxFixtures.images;
import static io.vitfleet.feeder.IdxFixtures.imageElements;
import static io.vitfleet.feeder.IdxFixtures.labels;
import static io.vitfleet.feeder.IdxFixtures.write;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxFileTest {
  @TempDir
  Path dir;

  @Test
  void shouldReadRawImagesWithTheirDimsAndPixels() {
    Path file = write(dir.resolve("images"), images(3, 4, 5));
    IdxFile idx = IdxFile.readImages(file);
    assertEquals(IdxFile.MAGIC_U8_IMAGES, idx.magic());
    assertArrayEquals(new int[] {3, 4, 5}, idx.dims());
    assertArrayEquals(imageElements(3, 4, 5), idx.data());
    assertEquals(file, idx.path());
  }

  @Test
  void shouldReadGzipCompressedFilesRecognisedByContentNotName() {
    Path gz = write(dir.resolve("labels.gz"), gzip(labels(11, 10)));
    Path gzWithoutSuffix = write(dir.resolve("labels-no-suffix"), gzip(labels(11, 10)));
    for (Path file : new Path[] {gz, gzWithoutSuffix}) {
      IdxFile idx = IdxFile.readLabels(file);
      assertArrayEquals(new int[] {11}, idx.dims());
      assertEquals(9, idx.data()[9]);
      assertEquals(0, idx.data()[10]);
    }
  }

  @Test
  void shouldReadAnEmptyDataSet() {
    IdxFile idx = IdxFile.readImages(write(dir.resolve("empty"), images(0, 28, 28)));
    assertEquals(0, idx.dim(0));
    assertEquals(0, idx.data().length);
  }

  @Test
  void shouldRejectATruncatedRawFileNamingExpectedAndActualBytes() {
    byte[] full = images(3, 4, 5); // 16 + 60 bytes
    Path file = write(dir.resolve("short"), Arrays.copyOf(full, full.length - 7));
    DatasetException e = assertThrows(DatasetException.class, () -> IdxFile.readImages(file));
    assertEquals(file, e.file());
    assertContains(e, file.toString(), "truncated", "69 bytes", "expected 76", "[3, 4, 5]", "replace it");
  }

  @Test
  void shouldRejectATruncatedGzipStreamNamingTheDecompressedByteCounts() {
    byte[] compressed = gzip(images(50, 28, 28));
    Path file = write(dir.resolve("cut.gz"), Arrays.copyOf(compressed, compressed.length / 2));
    DatasetException e = assertThrows(DatasetException.class, () -> IdxFile.readImages(file));
    assertContains(e, file.toString(), "truncated", "decompressed", "expected " + (16 + 50 * 28 * 28));
  }

  @Test
  void shouldRejectAGzipStreamCutInItsTrailer() {
    byte[] compressed = gzip(labels(30, 10));
    Path file = write(dir.resolve("no-trailer.gz"), Arrays.copyOf(compressed, compressed.length - 3));
    assertContains(assertThrows(DatasetException.class, () -> IdxFile.readLabels(file)), file.toString(),
        "truncated", "CRC trailer");
  }

  @Test
  void shouldRejectExtraBytesAfterThePayload() {
    byte[] full = images(2, 3, 3);
    Path file = write(dir.resolve("long"), Arrays.copyOf(full, full.length + 5));
    DatasetException e = assertThrows(DatasetException.class, () -> IdxFile.readImages(file));
    assertContains(e, file.toString(), "too long", (full.length + 5) + " bytes", "expected " + full.length,
        "5 extra bytes");
  }

  @Test
  void shouldRejectAFileShorterThanTheHeader() {
    Path file = write(dir.resolve("tiny"), new byte[] {0, 0, 8, 3, 0, 0});
    assertContains(assertThrows(DatasetException.class, () -> IdxFile.readImages(file)), file.toString(),
        "truncated", "6 bytes", "16-byte IDX header");
  }

  @Test
  void shouldRejectALabelsFileWhereImagesWereExpectedAndSaySo() {
    Path file = write(dir.resolve("labels-as-images"), labels(4, 10));
    DatasetException e = assertThrows(DatasetException.class, () -> IdxFile.readImages(file));
    assertContains(e, file.toString(), "0x00000801", "0x00000803", "swapped");
  }

  @Test
  void shouldRejectAFileThatIsNotIdxAtAll() {
    Path file = write(dir.resolve("text.gz"), gzip("hello, world".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    assertContains(assertThrows(DatasetException.class, () -> IdxFile.readLabels(file)), file.toString(),
        "IDX magic 0x68656c6c", "not a u8 IDX file");
  }

  @Test
  void shouldRejectCorruptGzipData() {
    byte[] compressed = gzip(images(20, 28, 28));
    for (int i = 20; i < compressed.length - 20; i += 3) {
      compressed[i] ^= 0x5a;
    }
    Path file = write(dir.resolve("corrupt.gz"), compressed);
    DatasetException e = assertThrows(DatasetException.class, () -> IdxFile.readImages(file));
    assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    assertTrue(e.getMessage().contains("gzip") || e.getMessage().contains("magic"), e.getMessage());
  }

  @Test
  void shouldRejectNegativeDimensions() {
    Path file = write(dir.resolve("negative"), idx(IdxFile.MAGIC_U8_IMAGES, new int[] {-1, 2, 2}, new byte[0]));
    assertContains(assertThrows(DatasetException.class, () -> IdxFile.readImages(file)), "negative dimension -1");
  }

  @Test
  void shouldNameTheMissingFile() {
    Path file = dir.resolve("absent");
    DatasetException e = assertThrows(DatasetException.class, () -> IdxFile.readImages(file));
    assertContains(e, "not found: " + file);
  }

  @Test
  void shouldKeepErrorMessagesOnOneLine() {
    Path file = write(dir.resolve("short"), new byte[] {0, 0, 8, 1, 0, 0, 0, 9, 1, 2});
    DatasetException e = assertThrows(DatasetException.class, () -> IdxFile.readLabels(file));
    assertTrue(!e.getMessage().contains("\n"), e.getMessage());
  }

  static void assertContains(Throwable e, String... parts) {
    for (String part : parts) {
      assertTrue(e.getMessage().contains(part), () -> "message lacks '" + part + "': " + e.getMessage());
    }
  }
}

package io.vitfleet.feeder;

import static io.vitfleet.feeder.IdxFileTest.assertContains;
import static io.vitfleet.feeder.IdxFixtures.fashionMnistDir;
import static io.vitfleet.feeder.IdxFixtures.gzip;
import static io.vitfleet.feeder.IdxFixtures.idx;
import static io.vitfleet.feeder.IdxFixtures.images;
import static io.vitfleet.feeder.IdxFixtures.labels;
import static io.vitfleet.feeder.IdxFixtures.write;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loading Fashion-MNIST-shaped directories built by hand; the installed files are FashionMnistInstalledTest's. */
class FashionMnistTest {
  @TempDir
  Path dir;

  @Test
  void shouldLoadBothSplitsFromGzipFiles() {
    fashionMnistDir(dir, 12, 5);
    ImageDataset train = FashionMnist.train(dir);
    ImageDataset test = FashionMnist.test(dir);
    assertEquals(12, train.size());
    assertEquals(5, test.size());
    assertEquals(28, train.rows());
    assertEquals(28, train.cols());
    assertEquals(1, train.channels());
    assertEquals(10, train.classes());
    assertEquals(1, train.label(11));
    assertEquals(((3 * 7 + 100) & 0xff), train.pixel(3, 100));
    assertEquals("Fashion-MNIST train", train.name());
  }

  @Test
  void shouldLoadUncompressedFilesWithTheSameNamesWithoutGz() {
    write(dir.resolve("t10k-images-idx3-ubyte"), images(3, 28, 28));
    write(dir.resolve("t10k-labels-idx1-ubyte"), labels(3, 10));
    assertEquals(3, FashionMnist.test(dir).size());
  }

  @Test
  void shouldSayHowToInstallTheDataWhenAFileIsMissing() throws Exception {
    fashionMnistDir(dir, 4, 4);
    Files.delete(dir.resolve("train-labels-idx1-ubyte.gz"));
    DatasetException e = assertThrows(DatasetException.class, () -> FashionMnist.train(dir));
    assertEquals("Fashion-MNIST train labels not found: " + dir.resolve("train-labels-idx1-ubyte.gz")
        + " (nor uncompressed train-labels-idx1-ubyte); install the data set with: apt-get install -y"
        + " dataset-fashion-mnist, or pass --data DIR", e.getMessage());
  }

  @Test
  void shouldRejectImagesAndLabelsOfDifferentCountsNamingBothFiles() {
    fashionMnistDir(dir, 6, 4);
    Path labels = write(dir.resolve("train-labels-idx1-ubyte.gz"), gzip(labels(5, 10)));
    DatasetException e = assertThrows(DatasetException.class, () -> FashionMnist.train(dir));
    assertEquals(labels, e.file());
    assertContains(e, labels + " holds 5 labels", dir.resolve("train-images-idx3-ubyte.gz") + " holds 6 images");
  }

  @Test
  void shouldRejectALabelOutsideTheTenClassesNamingFileAndIndex() {
    fashionMnistDir(dir, 4, 4);
    Path labels = write(dir.resolve("t10k-labels-idx1-ubyte.gz"),
        gzip(idx(IdxFile.MAGIC_U8_LABELS, new int[] {4}, new byte[] {0, 9, 10, 3})));
    DatasetException e = assertThrows(DatasetException.class, () -> FashionMnist.test(dir));
    assertEquals(labels, e.file());
    assertContains(e, "label 10 at index 2 of " + labels + " is outside 0..9");
  }

  @Test
  void shouldRejectImagesThatAreNot28By28() {
    fashionMnistDir(dir, 4, 4);
    write(dir.resolve("train-images-idx3-ubyte.gz"), gzip(images(4, 32, 32)));
    assertContains(assertThrows(DatasetException.class, () -> FashionMnist.train(dir)), "32x32", "expected 28x28");
  }

  @Test
  void shouldRejectATruncatedFileInTheDirectory() {
    fashionMnistDir(dir, 4, 4);
    byte[] full = images(4, 28, 28);
    Path file = write(dir.resolve("t10k-images-idx3-ubyte.gz"), gzip(java.util.Arrays.copyOf(full, 1000)));
    assertContains(assertThrows(DatasetException.class, () -> FashionMnist.test(dir)), file.toString(),
        "truncated", "1000 bytes", "expected " + full.length);
  }
}

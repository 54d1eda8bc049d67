package io.vitfleet.feeder;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPOutputStream;

/** Hand-built IDX files for tests: tiny, with known contents, gzip-compressed or raw. */
final class IdxFixtures {
  private IdxFixtures() {}

  /** The bytes of a u8 IDX file with the given magic, dims and elements. */
  static byte[] idx(int magic, int[] dims, byte[] elements) {
    ByteBuffer buffer = ByteBuffer.allocate(4 + 4 * dims.length + elements.length);
    buffer.putInt(magic);
    for (int d : dims) {
      buffer.putInt(d);
    }
    buffer.put(elements);
    return buffer.array();
  }

  /** n images of rows x cols whose pixel p of image i is (i * 7 + p) mod 256. */
  static byte[] imageElements(int n, int rows, int cols) {
    byte[] pixels = new byte[n * rows * cols];
    for (int i = 0; i < n; i++) {
      for (int p = 0; p < rows * cols; p++) {
        pixels[i * rows * cols + p] = (byte) (i * 7 + p);
      }
    }
    return pixels;
  }

  static byte[] images(int n, int rows, int cols) {
    return idx(IdxFile.MAGIC_U8_IMAGES, new int[] {n, rows, cols}, imageElements(n, rows, cols));
  }

  /** n labels, label i = i mod classes. */
  static byte[] labels(int n, int classes) {
    byte[] labels = new byte[n];
    for (int i = 0; i < n; i++) {
      labels[i] = (byte) (i % classes);
    }
    return idx(IdxFile.MAGIC_U8_LABELS, new int[] {n}, labels);
  }

  static byte[] gzip(byte[] raw) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (OutputStream out = new GZIPOutputStream(bytes)) {
      out.write(raw);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static Path write(Path file, byte[] content) {
    try {
      Files.createDirectories(file.getParent());
      return Files.write(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A Fashion-MNIST-shaped directory (28x28, 10 classes) with n train and m test images, gzip-compressed. */
  static Path fashionMnistDir(Path dir, int trainCount, int testCount) {
    write(dir.resolve("train-images-idx3-ubyte.gz"), gzip(images(trainCount, 28, 28)));
    write(dir.resolve("train-labels-idx1-ubyte.gz"), gzip(labels(trainCount, 10)));
    write(dir.resolve("t10k-images-idx3-ubyte.gz"), gzip(images(testCount, 28, 28)));
    write(dir.resolve("t10k-labels-idx1-ubyte.gz"), gzip(labels(testCount, 10)));
    return dir;
  }
}

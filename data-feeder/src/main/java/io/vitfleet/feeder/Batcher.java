package io.vitfleet.feeder;

import java.util.Objects;

/**
 * Copies images of an {@link ImageDataset}, normalised, into caller-owned buffers: images as floats NHWC
 * ([count, rows, cols, channels], row-major) and labels as ints. Nothing is allocated per sample or per call, so the
 * same two buffers can be reused for every batch. The training path goes through {@link MicrobatchSource}; the
 * evaluator uses {@link #fillRange} to walk the test set in order.
 */
public final class Batcher {
  private final ImageDataset dataset;
  private final Normalization normalization;
  private final byte[] pixels;
  private final float[] table;
  private final int floatsPerImage;

  public Batcher(ImageDataset dataset, Normalization normalization) {
    this.dataset = dataset;
    this.normalization = normalization;
    this.pixels = dataset.pixelArray();
    this.table = normalization.table();
    this.floatsPerImage = dataset.pixelsPerImage();
  }

  public ImageDataset dataset() {
    return dataset;
  }

  public Normalization normalization() {
    return normalization;
  }

  /** rows * cols * channels: floats per image in the images buffer. */
  public int floatsPerImage() {
    return floatsPerImage;
  }

  /** Writes image {@code index} to slot {@code slot}: images[slot * floatsPerImage ...] and labels[slot]. */
  public void put(int index, int slot, float[] images, int[] labels) {
    Objects.checkIndex(index, dataset.size());
    int src = index * floatsPerImage;
    int dst = slot * floatsPerImage;
    for (int i = 0; i < floatsPerImage; i++) {
      images[dst + i] = table[pixels[src + i] & 0xff];
    }
    labels[slot] = dataset.label(index);
  }

  /** Images first, first + 1, ..., first + count - 1 into slots 0..count-1 (e.g. the evaluator's test batches). */
  public void fillRange(int first, int count, float[] images, int[] labels) {
    Objects.checkFromIndexSize(first, count, dataset.size());
    requireCapacity(count, images, labels);
    for (int slot = 0; slot < count; slot++) {
      put(first + slot, slot, images, labels);
    }
  }

  /** Images indices[from], ..., indices[from + count - 1] into slots 0..count-1. */
  public void fill(int[] indices, int from, int count, float[] images, int[] labels) {
    Objects.checkFromIndexSize(from, count, indices.length);
    requireCapacity(count, images, labels);
    for (int slot = 0; slot < count; slot++) {
      put(indices[from + slot], slot, images, labels);
    }
  }

  /** Throws, naming both sizes, unless the buffers hold {@code count} images and labels. */
  void requireCapacity(int count, float[] images, int[] labels) {
    long floats = (long) count * floatsPerImage;
    if (images.length < floats || labels.length < count) {
      throw new IllegalArgumentException("batch buffers too small for " + count + " images of " + floatsPerImage
          + " floats: images has " + images.length + " floats (needs " + floats + "), labels has " + labels.length
          + " (needs " + count + ")");
    }
  }
}

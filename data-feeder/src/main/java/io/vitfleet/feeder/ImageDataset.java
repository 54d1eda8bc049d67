package io.vitfleet.feeder;

import java.util.Arrays;
import java.util.Objects;

/**
 * A labelled image data set held in memory: u8 pixels NHWC ([n, rows, cols, channels], row-major) and one label per
 * image in [0, classes). Immutable after construction; the arrays are owned by the data set, so whoever builds it
 * must not change them afterwards (they are not copied: Fashion-MNIST's train images are 47 MB).
 */
public final class ImageDataset {
  private final String name;
  private final byte[] pixels;
  private final byte[] labels;
  private final int rows;
  private final int cols;
  private final int channels;
  private final int classes;
  private final int pixelsPerImage;

  /**
   * @param name what the data set is, for messages (e.g. "Fashion-MNIST train")
   * @param pixels u8 pixels NHWC, {@code labels.length * rows * cols * channels} of them
   * @param labels one u8 label per image, each in [0, classes)
   * @throws IllegalArgumentException if the shapes disagree or a label is out of range
   */
  public ImageDataset(String name, byte[] pixels, byte[] labels, int rows, int cols, int channels, int classes) {
    requirePositive(name, "rows", rows);
    requirePositive(name, "cols", cols);
    requirePositive(name, "channels", channels);
    if (classes < 1 || classes > 256) {
      throw new IllegalArgumentException(name + ": classes must be in 1..256 (labels are u8), not " + classes);
    }
    long perImage = (long) rows * cols * channels;
    if ((long) labels.length * perImage != pixels.length) {
      throw new IllegalArgumentException(name + ": " + pixels.length + " pixels do not make " + labels.length
          + " images of " + rows + "x" + cols + "x" + channels + " (" + labels.length * perImage + " pixels)");
    }
    int bad = firstLabelOutOfRange(labels, classes);
    if (bad >= 0) {
      throw new IllegalArgumentException(labelMessage(labels, bad, classes, name));
    }
    this.name = name;
    this.pixels = pixels;
    this.labels = labels;
    this.rows = rows;
    this.cols = cols;
    this.channels = channels;
    this.classes = classes;
    this.pixelsPerImage = (int) perImage;
  }

  /**
   * A single-channel data set from an images file [n, rows, cols] and a labels file [n]; messages name the files.
   *
   * @throws DatasetException if the counts differ or a label is outside [0, classes)
   */
  public static ImageDataset fromIdx(String name, IdxFile images, IdxFile labels, int classes) {
    if (images.dim(0) != labels.dim(0)) {
      throw new DatasetException(labels.path(), name + ": " + labels.path() + " holds " + labels.dim(0)
          + " labels but " + images.path() + " holds " + images.dim(0) + " images; both files must come from the"
          + " same data set: replace the wrong one");
    }
    if (images.dim(1) < 1 || images.dim(2) < 1) {
      throw new DatasetException(images.path(), name + ": " + images.path() + " declares images of "
          + images.dim(1) + "x" + images.dim(2) + " pixels; replace it");
    }
    int bad = firstLabelOutOfRange(labels.data(), classes);
    if (bad >= 0) {
      throw new DatasetException(labels.path(), labelMessage(labels.data(), bad, classes, labels.path().toString()));
    }
    return new ImageDataset(name, images.data(), labels.data(), images.dim(1), images.dim(2), 1, classes);
  }

  private static int firstLabelOutOfRange(byte[] labels, int classes) {
    for (int i = 0; i < labels.length; i++) {
      if ((labels[i] & 0xff) >= classes) {
        return i;
      }
    }
    return -1;
  }

  private static String labelMessage(byte[] labels, int index, int classes, String source) {
    return "label " + (labels[index] & 0xff) + " at index " + index + " of " + source + " is outside 0.."
        + (classes - 1) + "; the labels are damaged or belong to another data set: replace them";
  }

  private static void requirePositive(String name, String what, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + ": " + what + " must be at least 1, not " + value);
    }
  }

  public String name() {
    return name;
  }

  /** Number of images. */
  public int size() {
    return labels.length;
  }

  public int rows() {
    return rows;
  }

  public int cols() {
    return cols;
  }

  public int channels() {
    return channels;
  }

  public int classes() {
    return classes;
  }

  /** rows * cols * channels: the floats one image takes in a batch buffer. */
  public int pixelsPerImage() {
    return pixelsPerImage;
  }

  /** Label of image {@code index}, in [0, classes). */
  public int label(int index) {
    return labels[index] & 0xff;
  }

  /** Pixel {@code offset} (in HWC order) of image {@code index}, in [0, 255]. */
  public int pixel(int index, int offset) {
    Objects.checkIndex(index, size());
    Objects.checkIndex(offset, pixelsPerImage);
    return pixels[index * pixelsPerImage + offset] & 0xff;
  }

  /** The pixel array itself (NHWC u8), for copying without a call per pixel; callers must not modify it. */
  byte[] pixelArray() {
    return pixels;
  }

  /** Number of images of each class, indexed by class. */
  public int[] classCounts() {
    int[] counts = new int[classes];
    for (byte label : labels) {
      counts[label & 0xff]++;
    }
    return counts;
  }

  @Override
  public String toString() {
    return name + " " + Arrays.toString(new int[] {size(), rows, cols, channels}) + ", " + classes + " classes";
  }
}

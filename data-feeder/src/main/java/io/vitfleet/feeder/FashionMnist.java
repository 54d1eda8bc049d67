package io.vitfleet.feeder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Fashion-MNIST (Zalando): 60 000 training and 10 000 test greyscale images of 28x28 pixels in 10 clothing classes,
 * as the four IDX files of the original release. The Debian package {@code dataset-fashion-mnist} installs them
 * gzip-compressed in {@link #DEFAULT_DIR}; uncompressed copies with the same names minus {@code .gz} work too.
 */
public final class FashionMnist {
  /** Where {@code apt-get install -y dataset-fashion-mnist} puts the files. */
  public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");
  public static final int ROWS = 28;
  public static final int COLS = 28;
  public static final int CLASSES = 10;
  public static final int TRAIN_SIZE = 60_000;
  public static final int TEST_SIZE = 10_000;
  /** Class names by label, as published with the data set. */
  public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
  /** Mean of the training pixels scaled to [0, 1], for {@link Normalization#meanStd}. */
  public static final float TRAIN_PIXEL_MEAN = 0.2860f;
  /** Standard deviation of the training pixels scaled to [0, 1], for {@link Normalization#meanStd}. */
  public static final float TRAIN_PIXEL_STD = 0.3530f;

  static final String INSTALL_HINT =
      "install the data set with: apt-get install -y dataset-fashion-mnist, or pass --data DIR";

  private static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
  private static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
  private static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
  private static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
  private static final String GZ = ".gz";

  private FashionMnist() {}

  /** The training split from {@link #DEFAULT_DIR}. */
  public static ImageDataset train() {
    return train(DEFAULT_DIR);
  }

  /** The test split from {@link #DEFAULT_DIR}. */
  public static ImageDataset test() {
    return test(DEFAULT_DIR);
  }

  /**
   * The training split from {@code dir}.
   *
   * @throws DatasetException if a file is missing or malformed, the counts disagree, or a label is not in 0..9
   */
  public static ImageDataset train(Path dir) {
    return load("Fashion-MNIST train", dir, TRAIN_IMAGES, TRAIN_LABELS);
  }

  /** The test split from {@code dir}; see {@link #train(Path)}. */
  public static ImageDataset test(Path dir) {
    return load("Fashion-MNIST test", dir, TEST_IMAGES, TEST_LABELS);
  }

  private static ImageDataset load(String name, Path dir, String imagesName, String labelsName) {
    Path imagesPath = locate(dir, imagesName, name + " images");
    Path labelsPath = locate(dir, labelsName, name + " labels");
    IdxFile images = IdxFile.readImages(imagesPath);
    if (images.dim(1) != ROWS || images.dim(2) != COLS) {
      throw new DatasetException(imagesPath, name + ": " + imagesPath + " holds images of " + images.dim(1) + "x"
          + images.dim(2) + " pixels, expected " + ROWS + "x" + COLS + "; it is not Fashion-MNIST: " + INSTALL_HINT);
    }
    IdxFile labels = IdxFile.readLabels(labelsPath);
    return ImageDataset.fromIdx(name, images, labels, CLASSES);
  }

  /** The uncompressed file if present (no inflation needed), else the gzip-compressed one. */
  private static Path locate(Path dir, String baseName, String what) {
    Path raw = dir.resolve(baseName);
    if (Files.isRegularFile(raw)) {
      return raw;
    }
    Path gz = dir.resolve(baseName + GZ);
    if (Files.isRegularFile(gz)) {
      return gz;
    }
    throw new DatasetException(gz, what + " not found: " + gz + " (nor uncompressed " + baseName + "); "
        + INSTALL_HINT);
  }
}

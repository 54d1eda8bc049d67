package io.vitfleet.feeder.augment;

import java.util.SplittableRandom;

/**
 * The random decisions for one sample: the window of the decoded image to keep (rows [top, top + height), columns
 * [left, left + width)) and whether to flip it. Drawn in Java from the sample's key rather than by TensorFlow's
 * random ops, so they depend on (seed, epoch, index) alone — not on the thread, the session or how many samples a
 * session has seen — and a replayed step gets the same bytes.
 *
 * <p>The inception crop draws an area fraction uniformly in [areaMin, areaMax] of the image and a log aspect ratio
 * uniformly in [ln aspectMin, ln aspectMax], rounds to a width and height, and accepts the window if it fits, placing
 * it uniformly; after {@code attempts} misses it takes the centre crop of the whole image with its aspect ratio clamped
 * into range (torchvision's RandomResizedCrop rule). Only {@link StrictMath} is used, so every JVM and CPU draws the
 * same windows.
 */
public record CropWindow(int top, int left, int height, int width, boolean flip) {

  public CropWindow {
    if (top < 0 || left < 0 || height < 1 || width < 1) {
      throw new IllegalArgumentException("crop window must have top, left >= 0 and a positive size, not " + top + ","
          + left + " " + height + "x" + width);
    }
  }

  /** The whole image, not flipped. */
  public static CropWindow whole(int imageHeight, int imageWidth) {
    return new CropWindow(0, 0, imageHeight, imageWidth, false);
  }

  /** The window and flip of the sample with key {@code key} in an image of the given size. */
  public static CropWindow sample(AugmentSpec spec, long key, int imageHeight, int imageWidth) {
    SplittableRandom random = new SplittableRandom(key);
    boolean flip = spec.flip() && random.nextBoolean();
    if (!spec.inceptionCrop()) {
      return new CropWindow(0, 0, imageHeight, imageWidth, flip);
    }
    double area = (double) imageHeight * imageWidth;
    double logMin = StrictMath.log(spec.aspectMin());
    double logMax = StrictMath.log(spec.aspectMax());
    for (int attempt = 0; attempt < spec.attempts(); attempt++) {
      double target = area * uniform(random, spec.areaMin(), spec.areaMax());
      double aspect = StrictMath.exp(uniform(random, logMin, logMax));
      int w = (int) StrictMath.round(StrictMath.sqrt(target * aspect));
      int h = (int) StrictMath.round(StrictMath.sqrt(target / aspect));
      if (w >= 1 && h >= 1 && w <= imageWidth && h <= imageHeight) {
        int top = random.nextInt(imageHeight - h + 1);
        int left = random.nextInt(imageWidth - w + 1);
        return new CropWindow(top, left, h, w, flip);
      }
    }
    return centre(spec, imageHeight, imageWidth, flip);
  }

  private static CropWindow centre(AugmentSpec spec, int imageHeight, int imageWidth, boolean flip) {
    double ratio = (double) imageWidth / imageHeight;
    int w = imageWidth;
    int h = imageHeight;
    if (ratio < spec.aspectMin()) {
      h = (int) Math.max(1, Math.min(imageHeight, StrictMath.round(w / spec.aspectMin())));
    } else if (ratio > spec.aspectMax()) {
      w = (int) Math.max(1, Math.min(imageWidth, StrictMath.round(h * spec.aspectMax())));
    }
    return new CropWindow((imageHeight - h) / 2, (imageWidth - w) / 2, h, w, flip);
  }

  /** Uniform in [min, max] (max itself when they are equal). */
  private static double uniform(SplittableRandom random, double min, double max) {
    return min == max ? min : min + (max - min) * random.nextDouble();
  }
}

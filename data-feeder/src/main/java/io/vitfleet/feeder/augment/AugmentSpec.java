package io.vitfleet.feeder.augment;

/**
 * What the feeder does to each decoded image, as in big_vision's training pipeline
 * {@code decode|inception_crop(S)|flip_lr|value_range(-1, 1)}: an inception crop (a random window covering
 * {@code areaMin}..{@code areaMax} of the image with aspect ratio {@code aspectMin}..{@code aspectMax}, resized to
 * S x S), a horizontal flip with probability 1/2, and pixel values mapped to [-1, 1]. {@link #evaluation} turns both random
 * steps off (the whole image resized), for evaluation and few-shot sets.
 *
 * @param size S: output height and width
 * @param channels 1 (grey) or 3 (RGB): decoders convert to this
 * @param inceptionCrop false: the whole image is resized, no randomness
 * @param areaMin smallest crop area as a fraction of the image (big_vision area_min = 5%)
 * @param areaMax largest crop area fraction (big_vision area_max = 100%)
 * @param aspectMin smallest crop width / height (3/4, as tf.image.sample_distorted_bounding_box)
 * @param aspectMax largest crop width / height (4/3)
 * @param attempts windows drawn before falling back to a centre crop (10, as torchvision's RandomResizedCrop)
 * @param flip whether to flip left-right with probability 1/2
 */
public record AugmentSpec(int size, int channels, boolean inceptionCrop, double areaMin, double areaMax,
                          double aspectMin, double aspectMax, int attempts, boolean flip) {
  /** big_vision's {@code inception_crop} default area_min = 5 (percent). */
  public static final double DEFAULT_AREA_MIN = 0.05;
  public static final double DEFAULT_AREA_MAX = 1.0;
  public static final double DEFAULT_ASPECT_MIN = 3.0 / 4.0;
  public static final double DEFAULT_ASPECT_MAX = 4.0 / 3.0;
  /** Windows tried before the centre-crop fallback: past 10, a failure means the image is far from square. */
  public static final int DEFAULT_ATTEMPTS = 10;
  /** The largest output side: 4096 x 4096 x 3 floats are 200 MB per image, beyond any ViT input. */
  public static final int MAX_SIZE = 4096;

  public AugmentSpec {
    if (size < 1 || size > MAX_SIZE) {
      throw new IllegalArgumentException("augment: output size must be in 1.." + MAX_SIZE + ", not " + size);
    }
    if (channels != 1 && channels != 3) {
      throw new IllegalArgumentException("augment: channels must be 1 or 3, not " + channels);
    }
    if (!(areaMin > 0 && areaMin <= areaMax && areaMax <= 1)) {
      throw new IllegalArgumentException("augment: crop area fractions must satisfy 0 < min <= max <= 1, not "
          + areaMin + ".." + areaMax);
    }
    if (!(aspectMin > 0 && aspectMin <= aspectMax && Double.isFinite(aspectMax))) {
      throw new IllegalArgumentException("augment: crop aspect ratios must satisfy 0 < min <= max, not " + aspectMin
          + ".." + aspectMax);
    }
    if (attempts < 1) {
      throw new IllegalArgumentException("augment: crop attempts must be at least 1, not " + attempts);
    }
  }

  /** The training recipe: inception crop to {@code size} with big_vision's defaults, and flips. */
  public static AugmentSpec training(int size, int channels) {
    return new AugmentSpec(size, channels, true, DEFAULT_AREA_MIN, DEFAULT_AREA_MAX, DEFAULT_ASPECT_MIN,
        DEFAULT_ASPECT_MAX, DEFAULT_ATTEMPTS, true);
  }

  /** No randomness: the whole image resized to {@code size} x {@code size}, no flip. */
  public static AugmentSpec evaluation(int size, int channels) {
    return new AugmentSpec(size, channels, false, DEFAULT_AREA_MIN, DEFAULT_AREA_MAX, DEFAULT_ASPECT_MIN,
        DEFAULT_ASPECT_MAX, DEFAULT_ATTEMPTS, false);
  }

  /** S * S * channels: the floats of one output image. */
  public int floatsPerImage() {
    return size * size * channels;
  }
}

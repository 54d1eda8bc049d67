package io.vitfleet.feeder;

import java.util.function.IntToDoubleFunction;

/**
 * Turns a u8 pixel into the float the model sees. The default, {@link #minusOneToOne()}, is big_vision's
 * {@code value_range(-1, 1)}: x / 127.5 - 1, so 0 -> -1 and 255 -> 1 exactly. We follow big_vision because its ViT
 * recipes (and their learning rates and init) assume inputs in [-1, 1] rather than per-data-set mean/std, and because
 * it needs no statistics of the data. {@link #meanStd} ((x / 255 - mean) / std) is there for comparing with recipes
 * that standardise, e.g. with {@link FashionMnist#TRAIN_PIXEL_MEAN} and {@link FashionMnist#TRAIN_PIXEL_STD}.
 *
 * <p>Each mapping is a 256-entry table computed once in double and rounded once to float: a lookup per pixel is
 * cheaper than arithmetic, and every host produces the same bits.
 */
public final class Normalization {
  private static final int LEVELS = 256;
  private static final Normalization MINUS_ONE_TO_ONE = new Normalization("value range [-1, 1] (x / 127.5 - 1)",
      x -> x / 127.5 - 1.0);

  private final String description;
  private final float[] table;

  private Normalization(String description, IntToDoubleFunction mapping) {
    this.description = description;
    this.table = new float[LEVELS];
    for (int x = 0; x < LEVELS; x++) {
      table[x] = (float) mapping.applyAsDouble(x);
    }
  }

  /** The default: x / 127.5 - 1, in [-1, 1] (big_vision {@code value_range(-1, 1)}). */
  public static Normalization minusOneToOne() {
    return MINUS_ONE_TO_ONE;
  }

  /** x / 255, in [0, 1]. */
  public static Normalization unitRange() {
    return new Normalization("value range [0, 1] (x / 255)", x -> x / 255.0);
  }

  /**
   * (x / 255 - mean) / std, with mean and std those of the pixels scaled to [0, 1].
   *
   * @throws IllegalArgumentException if std is not positive or either value is not finite
   */
  public static Normalization meanStd(double mean, double std) {
    if (!Double.isFinite(mean) || !Double.isFinite(std) || std <= 0) {
      throw new IllegalArgumentException("normalization: mean must be finite and std positive, not mean = " + mean
          + ", std = " + std);
    }
    return new Normalization("(x / 255 - " + mean + ") / " + std, x -> (x / 255.0 - mean) / std);
  }

  /** The float for pixel value {@code u8} in [0, 255]. */
  public float apply(int u8) {
    return table[u8];
  }

  /** The lookup table itself, for the copy loops of {@link Batcher}; never modified. */
  float[] table() {
    return table;
  }

  @Override
  public String toString() {
    return description;
  }
}

package io.vitfleet.feeder;

import java.util.Arrays;

/**
 * Cheap augmentation for small images that are already normalised in a buffer: a horizontal flip (probability 1/2)
 * and a translation by up to {@code maxShift} pixels each way, the uncovered border filled with {@code fill} (the
 * normalised background). Its randomness is a pure function of (seed, epoch, sample index), so a replayed step, a
 * resumed run and a cluster all see the same pixels.
 */
public final class FlipShiftAugmentation {
  private final int rows;
  private final int cols;
  private final int channels;
  private final int maxShift;
  private final boolean flip;
  private final float fill;
  private final float[] scratch;

  public FlipShiftAugmentation(int rows, int cols, int channels, int maxShift, boolean flip, float fill) {
    if (maxShift < 0 || maxShift >= Math.min(rows, cols)) {
      throw new IllegalArgumentException("augmentation max_shift must be in [0, " + Math.min(rows, cols)
          + "), got " + maxShift);
    }
    this.rows = rows;
    this.cols = cols;
    this.channels = channels;
    this.maxShift = maxShift;
    this.flip = flip;
    this.fill = fill;
    this.scratch = new float[rows * cols * channels];
  }

  /** True when this augmentation changes nothing (no flip, no shift). */
  public boolean isIdentity() {
    return !flip && maxShift == 0;
  }

  /** Augments the NHWC image at {@code images[offset ..]} in place. Not thread-safe (one scratch buffer). */
  public void apply(long seed, long epoch, long index, float[] images, int offset) {
    long h = mix(mix(mix(seed ^ 0x5DEECE66DL) ^ epoch) ^ index);
    boolean doFlip = flip && (h & 1) == 1;
    int span = 2 * maxShift + 1;
    int dy = (int) Long.remainderUnsigned(h >>> 1, span) - maxShift;
    int dx = (int) Long.remainderUnsigned(h >>> 17, span) - maxShift;
    if (!doFlip && dy == 0 && dx == 0) {
      return;
    }
    int size = rows * cols * channels;
    System.arraycopy(images, offset, scratch, 0, size);
    Arrays.fill(images, offset, offset + size, fill);
    for (int y = 0; y < rows; y++) {
      int sy = y - dy;
      if (sy < 0 || sy >= rows) {
        continue;
      }
      for (int x = 0; x < cols; x++) {
        int sx0 = x - dx;
        if (sx0 < 0 || sx0 >= cols) {
          continue;
        }
        int sx = doFlip ? cols - 1 - sx0 : sx0;
        int dst = offset + (y * cols + x) * channels;
        int src = (sy * cols + sx) * channels;
        for (int c = 0; c < channels; c++) {
          images[dst + c] = scratch[src + c];
        }
      }
    }
  }

  /** SplitMix64's finaliser: a well-mixed 64-bit hash. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }
}

package io.vitfleet.paramstore;

/**
 * Step 1 of the chain: clip the gradients by their global L2 norm over all tensors of the model (every shard's),
 * which the caller supplies. When {@code norm >= clipNorm}: {@code g <- (g / norm) * clipNorm} in float32, in that
 * order (the oracle's; a multiply by {@code clipNorm / norm} would round differently). An unclipped step uses
 * divisor and factor 1, which leave every float unchanged, so the loops need no branch.
 */
final class GlobalNormClip {
  private GlobalNormClip() {
  }

  /** Whether a step with this global norm is clipped. */
  static boolean clips(double globalNorm, double clipNorm) {
    return globalNorm >= clipNorm;
  }

  /** {@code (g / divisor) * factor}. */
  static float apply(float g, float divisor, float factor) {
    return (g / divisor) * factor;
  }
}

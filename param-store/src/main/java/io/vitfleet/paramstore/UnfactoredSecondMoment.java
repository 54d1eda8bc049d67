package io.vitfleet.paramstore;

/**
 * Step 5 of the chain, for tensors that are not factored (biases, norms, small kernels): the full second moment
 * {@code v <- beta2 * v + (1 - beta2) * (g^2 + eps)} and {@code u = g * v^-1/2}.
 */
final class UnfactoredSecondMoment {
  private UnfactoredSecondMoment() {
  }

  /** The updated second moment of one element with (clipped) gradient {@code g}. */
  static float decay(float v, float g, float beta2, float oneMinusBeta2, float eps) {
    return beta2 * v + oneMinusBeta2 * (g * g + eps);
  }

  /** {@code u = g * v^-1/2}. */
  static float scale(float g, float v) {
    return g * FactoredSecondMoment.rsqrt(v);
  }
}

package io.vitfleet.paramstore;

/**
 * The scalars one optimizer step shares across all tensors, in the float32 the update arithmetic uses, computed once
 * per step from the config, the step count and the global gradient norm.
 *
 * @param count            the step count (0 for the first update)
 * @param clip             whether the gradients are clipped this step
 * @param clipDivisor      the global norm as float32 when clipping, else 1
 * @param clipFactor       the clip norm as float32 when clipping, else 1
 * @param beta2            {@code min(beta2Cap, 1 - (count + 1)^-decayRate)}
 * @param oneMinusBeta2    {@code 1 - beta2} in float32
 * @param eps              added to squared gradients
 * @param momentum         first-moment decay
 * @param oneMinusMomentum {@code 1 - momentum} (computed in double, then rounded)
 * @param lr               peak learning rate
 * @param schedule         s(count)
 */
record StepFactors(long count, boolean clip, float clipDivisor, float clipFactor, float beta2, float oneMinusBeta2,
                   float eps, float momentum, float oneMinusMomentum, float lr, float schedule) {

  static StepFactors of(OptimizerConfig c, long count, double globalNorm) {
    if (count < 0) {
      throw new IllegalArgumentException("optimizer step count must be >= 0, got " + count);
    }
    if (!Double.isFinite(globalNorm) || globalNorm < 0) {
      throw new IllegalArgumentException("global gradient norm at step " + count + " is " + globalNorm
          + ": the gradients hold NaN or Inf (or the norm was summed wrongly); skip this step instead of applying it");
    }
    boolean clip = GlobalNormClip.clips(globalNorm, c.clipNorm());
    float beta2 = beta2(c, count);
    return new StepFactors(count, clip, clip ? (float) globalNorm : 1f, clip ? (float) c.clipNorm() : 1f, beta2,
        1f - beta2, (float) c.eps(), (float) c.momentum(), (float) (1.0 - c.momentum()), (float) c.lr(),
        c.schedule().at(count));
  }

  /**
   * Step 2 of the chain: {@code min(beta2Cap, 1 - (count + 1)^-decayRate)}, in double, rounded to float32.
   * StrictMath, because Math.pow may differ by an ulp between CPUs and every shard must agree bit for bit.
   */
  static float beta2(OptimizerConfig c, long count) {
    return (float) Math.min(c.beta2Cap(), 1.0 - StrictMath.pow(count + 1.0, -c.decayRate()));
  }
}

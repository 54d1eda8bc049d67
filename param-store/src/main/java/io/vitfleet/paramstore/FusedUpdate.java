package io.vitfleet.paramstore;

/**
 * Pass 2 of the chain over one block of a tensor, fused into one loop so each element is loaded and stored once:
 * clip ({@link GlobalNormClip}) -> scale by the second moment ({@link FactoredSecondMoment} factors, or
 * {@link UnfactoredSecondMoment}) -> momentum ({@link Bf16Momentum#mix}) -> learning rate, decay and schedule
 * ({@link ScheduledStep}). The momentum array {@code m} holds the previous momentum on entry and m32 on exit, for
 * {@link Bf16Momentum} to unpack and pack around the loop.
 *
 * <p>The factored kernels index every array with the same index: the JIT (C2, JDK 17) vectorises a loop only when
 * all its array accesses share one index expression, so callers gather a block into scratch arrays first
 * ({@code System.arraycopy}) and scatter it back after.
 */
final class FusedUpdate {
  private FusedUpdate() {
  }

  /**
   * A factored tensor's elements {@code [from, to)} of the block: {@code u = (clip(g) * row) * col} (the oracle's
   * order), then momentum and step.
   */
  static void factored(float[] g, float[] p, float[] m, float[] row, float[] col, int from, int to, StepFactors f,
                       float decay) {
    float div = f.clipDivisor();
    float fac = f.clipFactor();
    float mom = f.momentum();
    float omm = f.oneMinusMomentum();
    float lr = f.lr();
    float s = f.schedule();
    for (int k = from; k < to; k++) {
      float u = (GlobalNormClip.apply(g[k], div, fac) * row[k]) * col[k];
      float m32 = Bf16Momentum.mix(m[k], u, mom, omm);
      m[k] = m32;
      p[k] = ScheduledStep.apply(p[k], m32, lr, decay, s);
    }
  }

  /** {@link #factored} with one column factor for all of {@code [from, to)}. */
  static void factoredOneCol(float[] g, float[] p, float[] m, float[] row, float col, int from, int to,
                             StepFactors f, float decay) {
    float div = f.clipDivisor();
    float fac = f.clipFactor();
    float mom = f.momentum();
    float omm = f.oneMinusMomentum();
    float lr = f.lr();
    float s = f.schedule();
    for (int k = from; k < to; k++) {
      float u = (GlobalNormClip.apply(g[k], div, fac) * row[k]) * col;
      float m32 = Bf16Momentum.mix(m[k], u, mom, omm);
      m[k] = m32;
      p[k] = ScheduledStep.apply(p[k], m32, lr, decay, s);
    }
  }

  /** {@link #factored} with one row factor for all of {@code [from, to)}. */
  static void factoredOneRow(float[] g, float[] p, float[] m, float row, float[] col, int from, int to,
                             StepFactors f, float decay) {
    float div = f.clipDivisor();
    float fac = f.clipFactor();
    float mom = f.momentum();
    float omm = f.oneMinusMomentum();
    float lr = f.lr();
    float s = f.schedule();
    for (int k = from; k < to; k++) {
      float u = (GlobalNormClip.apply(g[k], div, fac) * row) * col[k];
      float m32 = Bf16Momentum.mix(m[k], u, mom, omm);
      m[k] = m32;
      p[k] = ScheduledStep.apply(p[k], m32, lr, decay, s);
    }
  }

  /**
   * An unfactored tensor's block of {@code n} elements: the full second moment {@code v[vOff + k]} is updated and
   * scales the gradient. Its rsqrt goes through double, which C2 does not vectorise; unfactored tensors are small.
   */
  static void unfactored(float[] g, int gOff, float[] p, int pOff, float[] v, int vOff, float[] m, int n,
                         StepFactors f, float decay) {
    float div = f.clipDivisor();
    float fac = f.clipFactor();
    float beta2 = f.beta2();
    float omb2 = f.oneMinusBeta2();
    float eps = f.eps();
    float mom = f.momentum();
    float omm = f.oneMinusMomentum();
    float lr = f.lr();
    float s = f.schedule();
    for (int k = 0; k < n; k++) {
      float cg = GlobalNormClip.apply(g[gOff + k], div, fac);
      float vk = UnfactoredSecondMoment.decay(v[vOff + k], cg, beta2, omb2, eps);
      v[vOff + k] = vk;
      float m32 = Bf16Momentum.mix(m[k], UnfactoredSecondMoment.scale(cg, vk), mom, omm);
      m[k] = m32;
      p[pOff + k] = ScheduledStep.apply(p[pOff + k], m32, lr, decay, s);
    }
  }
}

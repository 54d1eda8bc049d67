package io.vitfleet.paramstore;

/**
 * Scratch arrays of one {@link Adafactor}, sized once for its manifest so that a step allocates nothing. Kernels run
 * over these from index 0 (gathered from and scattered back to the tensors with {@code System.arraycopy}), which is
 * what lets the JIT vectorise them.
 */
final class Workspace {
  /** One run's gradients, then their squares (pass 1). */
  final float[] runG2;
  /** Sums over p of the current outer index (pass 1). */
  final float[] runSum;
  final float[] sumOverP;
  final float[] sumOverQ;
  final float[] rowMean;
  final float[] rowFactor;
  final float[] colFactor;
  /** One block of gradients, parameters, momentum (previous in, m32 out) and factors (pass 2). */
  final float[] g = new float[Bf16Momentum.BLOCK];
  final float[] p = new float[Bf16Momentum.BLOCK];
  final float[] m = new float[Bf16Momentum.BLOCK];
  final float[] row = new float[Bf16Momentum.BLOCK];
  final float[] col = new float[Bf16Momentum.BLOCK];
  final Bf16Momentum momentum = new Bf16Momentum();

  Workspace(int maxRun, int maxOverP, int maxOverQ) {
    this.runG2 = new float[maxRun];
    this.runSum = new float[maxRun];
    this.sumOverP = new float[maxOverP];
    this.sumOverQ = new float[maxOverQ];
    int maxStat = Math.max(maxOverP, maxOverQ);
    this.rowMean = new float[maxStat];
    this.rowFactor = new float[maxStat];
    this.colFactor = new float[maxStat];
  }
}

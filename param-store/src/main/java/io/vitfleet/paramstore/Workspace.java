package io.vitfleet.paramstore;

/**
 * Scratch arrays of one {@link Adafactor}, sized once for its manifest so that a step allocates nothing. The
 * factored update works on the tensors in place, with scratch for its statistics and one block's scaled gradients;
 * an unfactored tensor's update unpacks one momentum block at a time into {@link #m}.
 */
final class Workspace {
  /** One run's clipped squared gradients, when q is not the last non-trivial axis (pass 1). */
  final float[] runG2;
  final float[] sumOverP;
  final float[] sumOverQ;
  final float[] rowMean;
  final float[] rowFactor;
  final float[] colFactor;
  /** The scaled gradients of one momentum block of a factored tensor (pass 2). */
  final float[] u = new float[Bf16Momentum.BLOCK];
  /** The float32 bits of a block's m32, its first half and its second (pass 2). */
  final int[] lowBits = new int[Bf16Momentum.BLOCK / 2];
  final int[] highBits = new int[Bf16Momentum.BLOCK / 2];
  /** Walks numpy's summation tree (pass 1, the means of the factors, the squared norms). */
  final PairwiseSum.Walk walk = new PairwiseSum.Walk();
  /** One unpacked momentum block of an unfactored tensor (previous in, m32 out). */
  final float[] m = new float[Bf16Momentum.BLOCK];
  final Bf16Momentum momentum = new Bf16Momentum();
  /** Keeps the values {@link Adafactor} reads ahead of a block's update, so that the JIT does not drop the loads. */
  int sink;

  Workspace(int maxRun, int maxOverP, int maxOverQ) {
    this.runG2 = new float[maxRun];
    this.sumOverP = new float[maxOverP];
    this.sumOverQ = new float[maxOverQ];
    int maxStat = Math.max(maxOverP, maxOverQ);
    this.rowMean = new float[maxStat];
    this.rowFactor = new float[maxStat];
    this.colFactor = new float[maxStat];
  }
}

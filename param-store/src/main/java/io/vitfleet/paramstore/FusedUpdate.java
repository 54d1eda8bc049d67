package io.vitfleet.paramstore;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Pass 2 of the chain over a range of a tensor, each element loaded and stored once: clip ({@link GlobalNormClip})
 * -> scale by the second moment ({@link FactoredSecondMoment} factors, or {@link UnfactoredSecondMoment}) -> momentum
 * ({@link Bf16Momentum#mix}) -> learning rate, decay and schedule ({@link ScheduledStep}).
 *
 * <p>The factored kernels run straight on the caller's arrays with vectors of the Vector API, doing the same float32
 * operations in the same order as the scalar links, so the bits do not depend on the lane count; the elements past
 * the last whole vector take the scalar links. A momentum block goes in four loops: the {@code scaleBy...} kernels
 * write {@code u = (clip(g) * row) * col} into scratch, piece by piece (the factor over one axis runs along the
 * elements, the other is an array too or one value for all of them), {@link #momentum} turns it into m32 and its
 * bits, {@link Bf16Momentum#pack(int[], int[], int, int[])} rounds those to the new bfloat16 momentum (an int loop
 * the JIT vectorises by itself), and {@link #step} applies m32 to the parameters.
 *
 * <p>Written for the JIT (C2, JDK 17), which compiles a Vector API operation to a vector instruction only when it
 * knows the vector's exact class and species; where it does not, the operation runs as Java code on a vector boxed on
 * the heap, ten to a hundred times slower. So: each loop keeps its vectors inside one method (a helper that takes or
 * returns vectors is not always inlined); loop bodies stay short (each Vector API call expands to hundreds of IR
 * nodes while C2 parses it, and past about 18,000 nodes C2 stops inlining, even the Vector API's own methods, which
 * leaves the last operations of a long body boxed); scalars are broadcast once before a loop; bit casts name their
 * species ({@code reinterpretShape(INTS, 0)}; {@code reinterpretAsInts()} looks it up, which C2 does not always fold
 * to a constant); and one float species serves every kernel (see {@link #FLOATS}). A slip shows up as garbage: the
 * update allocates nothing when C2 has compiled it to vector code ({@code vitfleet bench optimizer} counts the
 * collections during its timed steps).
 */
final class FusedUpdate {
  /**
   * {@link PairwiseSum}'s 8 lanes, not the widest the CPU has: with two float species in one JVM the JIT's type
   * profiles of FloatVector see two classes, and the vectors it cannot type exactly are boxed on the heap.
   */
  private static final VectorSpecies<Float> FLOATS = PairwiseSum.FLOATS;
  private static final VectorSpecies<Integer> INTS = IntVector.SPECIES_256;

  private FusedUpdate() {
  }

  /** {@code u[k] = (clip(g[gOff + k]) * row[rowOff + k]) * col} for {@code k < n}, in the oracle's order. */
  static void scaleByRowsAndCol(float[] g, int gOff, float[] row, int rowOff, float col, float[] u, int uOff, int n,
                                StepFactors f) {
    float div = f.clipDivisor();
    float fac = f.clipFactor();
    FloatVector divV = FloatVector.broadcast(FLOATS, div);
    FloatVector facV = FloatVector.broadcast(FLOATS, fac);
    FloatVector colV = FloatVector.broadcast(FLOATS, col);
    int i = 0;
    for (int bound = FLOATS.loopBound(n); i < bound; i += FLOATS.length()) {
      FloatVector cg = FloatVector.fromArray(FLOATS, g, gOff + i).div(divV).mul(facV);
      cg.mul(FloatVector.fromArray(FLOATS, row, rowOff + i)).mul(colV).intoArray(u, uOff + i);
    }
    for (; i < n; i++) {
      u[uOff + i] = (GlobalNormClip.apply(g[gOff + i], div, fac) * row[rowOff + i]) * col;
    }
  }

  /** {@code u[k] = (clip(g[gOff + k]) * row) * col[colOff + k]} for {@code k < n}. */
  static void scaleByRowAndCols(float[] g, int gOff, float row, float[] col, int colOff, float[] u, int uOff, int n,
                                StepFactors f) {
    float div = f.clipDivisor();
    float fac = f.clipFactor();
    FloatVector divV = FloatVector.broadcast(FLOATS, div);
    FloatVector facV = FloatVector.broadcast(FLOATS, fac);
    FloatVector rowV = FloatVector.broadcast(FLOATS, row);
    int i = 0;
    for (int bound = FLOATS.loopBound(n); i < bound; i += FLOATS.length()) {
      FloatVector cg = FloatVector.fromArray(FLOATS, g, gOff + i).div(divV).mul(facV);
      cg.mul(rowV).mul(FloatVector.fromArray(FLOATS, col, colOff + i)).intoArray(u, uOff + i);
    }
    for (; i < n; i++) {
      u[uOff + i] = (GlobalNormClip.apply(g[gOff + i], div, fac) * row) * col[colOff + i];
    }
  }

  /** {@code u[k] = (clip(g[gOff + k]) * row[rowOff + k]) * col[colOff + k]} for {@code k < n}. */
  static void scaleByRowsAndCols(float[] g, int gOff, float[] row, int rowOff, float[] col, int colOff, float[] u,
                                 int uOff, int n, StepFactors f) {
    float div = f.clipDivisor();
    float fac = f.clipFactor();
    FloatVector divV = FloatVector.broadcast(FLOATS, div);
    FloatVector facV = FloatVector.broadcast(FLOATS, fac);
    int i = 0;
    for (int bound = FLOATS.loopBound(n); i < bound; i += FLOATS.length()) {
      FloatVector cg = FloatVector.fromArray(FLOATS, g, gOff + i).div(divV).mul(facV);
      cg.mul(FloatVector.fromArray(FLOATS, row, rowOff + i)).mul(FloatVector.fromArray(FLOATS, col, colOff + i))
          .intoArray(u, uOff + i);
    }
    for (; i < n; i++) {
      u[uOff + i] = (GlobalNormClip.apply(g[gOff + i], div, fac) * row[rowOff + i]) * col[colOff + i];
    }
  }

  /**
   * Momentum and step for one block of {@code len} elements of a factored tensor, with scaled gradients
   * {@code u[0 .. len)}: parameters {@code p[pOff ..]}, momentum the packed {@code block} ({@link Bf16Momentum}).
   * {@code u} holds m32 on return; {@code lowBits} and {@code highBits} are scratch of half a block.
   */
  static void momentumAndStep(float[] u, float[] p, int pOff, int[] block, int len, int[] lowBits, int[] highBits,
                              StepFactors f, float decay) {
    momentum(u, block, len, lowBits, highBits, f);
    Bf16Momentum.pack(lowBits, highBits, len, block);
    step(u, p, pOff, len, f, decay);
  }

  /**
   * {@code m32 = momentum * m + (1 - momentum) * u} for one block of {@code len} elements, into {@code u}, with its
   * bits for {@link Bf16Momentum#pack(int[], int[], int, int[])}: element {@code j} into {@code lowBits[j]} and
   * element {@code h + j} into {@code highBits[j]} ({@code h = ceil(len / 2)}, so int {@code j} of the block holds
   * the momentum of both: one vector of ints serves a vector of each half).
   */
  static void momentum(float[] u, int[] block, int len, int[] lowBits, int[] highBits, StepFactors f) {
    FloatVector mom = FloatVector.broadcast(FLOATS, f.momentum());
    FloatVector omm = FloatVector.broadcast(FLOATS, f.oneMinusMomentum());
    IntVector highHalf = IntVector.broadcast(INTS, 0xFFFF0000);
    int h = (len + 1) >> 1;
    int pairs = len - h;
    int j = 0;
    for (int bound = INTS.loopBound(pairs); j < bound; j += INTS.length()) {
      IntVector packed = IntVector.fromArray(INTS, block, j);
      FloatVector lowPrevious = (FloatVector) packed.lanewise(VectorOperators.LSHL, 16).reinterpretShape(FLOATS, 0);
      FloatVector highPrevious = (FloatVector) packed.and(highHalf).reinterpretShape(FLOATS, 0);
      FloatVector low = lowPrevious.mul(mom).add(FloatVector.fromArray(FLOATS, u, j).mul(omm));
      FloatVector high = highPrevious.mul(mom).add(FloatVector.fromArray(FLOATS, u, h + j).mul(omm));
      low.intoArray(u, j);
      high.intoArray(u, h + j);
      ((IntVector) low.reinterpretShape(INTS, 0)).intoArray(lowBits, j);
      ((IntVector) high.reinterpretShape(INTS, 0)).intoArray(highBits, j);
    }
    for (; j < h; j++) {
      u[j] = Bf16Momentum.mix(Bf16Momentum.unpack(block[j], 0), u[j], f.momentum(), f.oneMinusMomentum());
      lowBits[j] = Float.floatToRawIntBits(u[j]);
      if (j < pairs) {
        u[h + j] = Bf16Momentum.mix(Bf16Momentum.unpack(block[j], 16), u[h + j], f.momentum(), f.oneMinusMomentum());
        highBits[j] = Float.floatToRawIntBits(u[h + j]);
      }
    }
  }

  /** {@code p <- p - s * (lr * m32 + decay * p)} for {@code p[pOff .. pOff + n)}, with m32 in {@code m32[0 .. n)}. */
  static void step(float[] m32, float[] p, int pOff, int n, StepFactors f, float decay) {
    FloatVector lr = FloatVector.broadcast(FLOATS, f.lr());
    FloatVector wd = FloatVector.broadcast(FLOATS, decay);
    FloatVector s = FloatVector.broadcast(FLOATS, f.schedule());
    int i = 0;
    for (int bound = FLOATS.loopBound(n); i < bound; i += FLOATS.length()) {
      FloatVector param = FloatVector.fromArray(FLOATS, p, pOff + i);
      param.sub(FloatVector.fromArray(FLOATS, m32, i).mul(lr).add(param.mul(wd)).mul(s)).intoArray(p, pOff + i);
    }
    for (; i < n; i++) {
      p[pOff + i] = ScheduledStep.apply(p[pOff + i], m32[i], f.lr(), decay, f.schedule());
    }
  }

  /**
   * An unfactored tensor's block of {@code n} elements, momentum unpacked into {@code m} (m32 on exit): the full
   * second moment {@code v[vOff + k]} is updated and scales the gradient. Its rsqrt goes through double; unfactored
   * tensors (biases, norms, small kernels) are a small part of a model, so this loop stays scalar.
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

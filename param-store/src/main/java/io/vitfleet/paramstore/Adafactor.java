package io.vitfleet.paramstore;

import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import io.vitfleet.protocol.SecondMomentLayout;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The paper's memory-efficient Adafactor (spec/vit.md, "Optimizer"), as big_vision chains it:
 * clip by global norm -> factored RMS (or full RMS for small tensors) -> bfloat16 momentum -> learning rate ->
 * decoupled per-name weight decay -> schedule. Each link is its own small class ({@link GlobalNormClip},
 * {@link FactoredSecondMoment}, {@link UnfactoredSecondMoment}, {@link Bf16Momentum}, {@link ScheduledStep}); this
 * class runs them over each tensor with no allocation per step: a factored tensor in two passes (statistics of g^2,
 * then the update), an unfactored one in one; the update fuses the links per element ({@link FusedUpdate}) over
 * blocks of {@link Bf16Momentum#BLOCK} elements, so each element of the parameters and momentum is read and written
 * once per step. The loops use the Vector API ({@code jdk.incubator.vector}): every JVM that runs an update needs
 * {@code --add-modules=jdk.incubator.vector}, which the root pom's {@code vitfleet.jvm.flags} carries.
 *
 * <p>The arithmetic is float32 in the reference oracle's order, and sums follow numpy's order (vector lanes hold
 * exactly numpy's partial sums), so results equal the oracle's up to the rounding of {@code x ** -0.5} (computed here
 * correctly rounded). The update is deterministic: the same inputs give bit-identical outputs, whatever the vector
 * width or the thread count.
 *
 * <p>One step for a manifest: {@code norm = sqrt(sum of squaredNorm over all tensors of the model)}, then
 * {@link #update}. A shard holding part of a model builds its Adafactor over its own sub-manifest, reports
 * {@link #squaredNorms per-tensor squared norms}, and applies the update with the global norm it is given.
 * An instance keeps scratch buffers: use one per calling thread. With {@code threads > 1} an update spreads whole
 * tensors over that many threads; each tensor's update is independent of the others, so the bits do not depend on the
 * thread count.
 */
public final class Adafactor {
  /** Four-byte values per 64-byte cache line, the stride of {@link #touch}. */
  private static final int FLOATS_PER_LINE = 16;

  private final OptimizerConfig config;
  private final ParameterManifest manifest;
  private final FactoredSecondMoment[] factored;
  private final float[] decay;
  private final Workspace[] workspaces;

  /** A single-threaded optimizer for {@code manifest}. */
  public Adafactor(OptimizerConfig config, ParameterManifest manifest) {
    this(config, manifest, 1);
  }

  /** An optimizer whose updates run on {@code threads} threads (whole tensors each; same bits as one thread). */
  public Adafactor(OptimizerConfig config, ParameterManifest manifest, int threads) {
    if (threads < 1) {
      throw new IllegalArgumentException("optimizer threads must be positive, got " + threads);
    }
    this.config = config;
    this.manifest = manifest;
    int n = manifest.count();
    this.factored = new FactoredSecondMoment[n];
    this.decay = new float[n];
    int maxRun = 0;
    int maxOverP = 0;
    int maxOverQ = 0;
    for (int i = 0; i < n; i++) {
      ParameterSpec s = manifest.get(i);
      if (s.size() > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("tensor " + s + " has " + s.size() + " elements, more than one Java "
            + "array holds; split it into several parameters");
      }
      SecondMomentLayout layout = SecondMomentLayout.of(s.shape(), config.minDimToFactor());
      if (layout.factored()) {
        factored[i] = new FactoredSecondMoment(layout);
        maxRun = Math.max(maxRun, factored[i].runLength());
        maxOverP = Math.max(maxOverP, factored[i].overPSize());
        maxOverQ = Math.max(maxOverQ, factored[i].overQSize());
      }
      decay[i] = (float) (config.wd() * config.rules().multiplier(s.name()));
    }
    this.workspaces = new Workspace[threads];
    for (int t = 0; t < threads; t++) {
      workspaces[t] = new Workspace(maxRun, maxOverP, maxOverQ);
    }
  }

  /** Threads an update runs on. */
  public int threads() {
    return workspaces.length;
  }

  public OptimizerConfig config() {
    return config;
  }

  public ParameterManifest manifest() {
    return manifest;
  }

  /** A zero state laid out for this manifest and config. */
  public OptimizerState newState() {
    return OptimizerState.zeros(manifest, config.minDimToFactor());
  }

  /** beta2 of step {@code count}, as float32. */
  public float beta2(long count) {
    return StepFactors.beta2(config, count);
  }

  /** The schedule's value at step {@code count}, as float32. */
  public float schedule(long count) {
    return config.schedule().at(count);
  }

  /** The weight-decay coefficient ({@code wd * mult(name)}, as float32) applied to tensor {@code tensor}. */
  public float decay(int tensor) {
    return decay[tensor];
  }

  // ---- global norm -------------------------------------------------------------------------------------------

  /**
   * Squared L2 norm of each tensor's gradient, in double (numpy's pairwise order over the tensor). Summing these in
   * manifest order gives the same bits however the model is split into shards.
   */
  public double[] squaredNorms(FlatFloats grads) {
    requireManifest(grads.manifest(), "gradients");
    double[] out = new double[manifest.count()];
    for (int i = 0; i < out.length; i++) {
      out[i] = PairwiseSum.sumOfSquares(grads.array(i), grads.offset(i), (int) manifest.get(i).size(),
          workspaces[0].walk);
    }
    return out;
  }

  /** The squared norms of tensors {@code [from, to)} summed in manifest order, in double. */
  public double squaredNorm(FlatFloats grads, int from, int to) {
    requireManifest(grads.manifest(), "gradients");
    if (from < 0 || to > manifest.count() || from > to) {
      throw new IllegalArgumentException("tensor range [" + from + ", " + to + ") is outside the manifest's "
          + manifest.count() + " tensors");
    }
    double[] parts = new double[to - from];
    forEachTensor(from, to, (i, ws) -> parts[i - from] =
        PairwiseSum.sumOfSquares(grads.array(i), grads.offset(i), (int) manifest.get(i).size(), ws.walk));
    double sum = 0.0;
    for (double part : parts) {
      sum += part;
    }
    return sum;
  }

  /** The squared norm of all tensors of a manifest-order flat gradient buffer. */
  public double squaredNorm(float[] grads) {
    return squaredNorm(FlatFloats.wrap(manifest, grads), 0, manifest.count());
  }

  /** The global norm from squared norms (per tensor or per shard), summed in the order given, in double. */
  public static double globalNorm(double... squaredNorms) {
    double sum = 0.0;
    for (double s : squaredNorms) {
      sum += s;
    }
    return Math.sqrt(sum);
  }

  // ---- the update --------------------------------------------------------------------------------------------

  /**
   * One optimizer step over every tensor: updates {@code params} and {@code state} in place from the raw gradients
   * {@code grads}, at step {@code count} (0 for the first update), clipping with {@code globalNorm}, the L2 norm of
   * the gradients of the whole model (all shards). {@code grads} is not modified.
   *
   * @throws IllegalArgumentException if the buffers or state belong to another manifest, or the norm is not finite
   *                                  (NaN or Inf gradients: skip the step instead), before anything is changed
   */
  public void update(FlatFloats params, FlatFloats grads, OptimizerState state, long count, double globalNorm) {
    requireManifest(params.manifest(), "parameters");
    requireManifest(grads.manifest(), "gradients");
    requireState(state);
    StepFactors f = StepFactors.of(config, count, globalNorm);
    forEachTensor(0, manifest.count(), (i, ws) -> updateTensor(i, params, grads, state, f, ws));
  }

  /** Work on one tensor with the calling thread's scratch buffers. */
  private interface TensorTask {
    void run(int tensor, Workspace ws);
  }

  /**
   * Runs {@code task} for tensors {@code [from, to)}: in order on the caller when single-threaded, else handed out
   * in manifest order to whichever of the threads is free. Tasks touch only their own tensor's slices.
   */
  private void forEachTensor(int from, int to, TensorTask task) {
    if (workspaces.length == 1 || to - from < 2) {
      for (int i = from; i < to; i++) {
        task.run(i, workspaces[0]);
      }
      return;
    }
    AtomicInteger next = new AtomicInteger(from);
    Throwable[] failures = new Throwable[workspaces.length];
    Thread[] helpers = new Thread[workspaces.length - 1];
    for (int t = 0; t < helpers.length; t++) {
      int slot = t + 1;
      helpers[t] = new Thread(() -> drain(next, to, task, workspaces[slot], failures, slot), "adafactor-" + slot);
      helpers[t].start();
    }
    drain(next, to, task, workspaces[0], failures, 0);
    for (Thread h : helpers) {
      try {
        h.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while the optimizer's threads were running", e);
      }
    }
    for (Throwable t : failures) {
      if (t != null) {
        throw new IllegalStateException("optimizer thread failed: " + t, t);
      }
    }
  }

  private static void drain(AtomicInteger next, int to, TensorTask task, Workspace ws, Throwable[] failures,
                            int slot) {
    try {
      for (int i = next.getAndIncrement(); i < to; i = next.getAndIncrement()) {
        task.run(i, ws);
      }
    } catch (Throwable t) {
      failures[slot] = t;
      next.set(to);
    }
  }

  private void updateTensor(int i, FlatFloats params, FlatFloats grads, OptimizerState state, StepFactors f,
                            Workspace ws) {
    if (factored[i] != null) {
      updateFactored(factored[i], params.array(i), params.offset(i), grads.array(i), grads.offset(i),
          state.packedMomentum(i), state.secondMomentRows(i), state.secondMomentCols(i), decay[i], f, ws);
    } else {
      updateUnfactored(params.array(i), params.offset(i), grads.array(i), grads.offset(i), state.packedMomentum(i),
          state.secondMoment(i), decay[i], f, ws);
    }
  }

  /** {@link #update(FlatFloats, FlatFloats, OptimizerState, long, double)} over manifest-order flat arrays. */
  public void update(float[] params, float[] grads, OptimizerState state, long count, double globalNorm) {
    update(FlatFloats.wrap(manifest, params), FlatFloats.wrap(manifest, grads), state, count, globalNorm);
  }

  /**
   * A whole step when this manifest is the whole model (the single-process trainer): computes the global norm of
   * {@code grads}, applies the update, and returns the norm.
   */
  public double step(float[] params, float[] grads, OptimizerState state, long count) {
    double norm = Math.sqrt(squaredNorm(grads));
    update(params, grads, state, count, norm);
    return norm;
  }

  private void updateFactored(FactoredSecondMoment fm, float[] p, int pOff, float[] g, int gOff, int[][] m,
                              float[] vRow, float[] vCol, float decay, StepFactors f, Workspace w) {
    int runs = fm.runs();
    int len = fm.runLength();
    // Pass 1: statistics of the clipped g^2.
    for (int r = 0; r < runs; r++) {
      fm.accumulate(g, gOff + r * len, r, f, w, w.sumOverP, w.sumOverQ);
    }
    fm.sumsToMeans(w.sumOverP, w.sumOverQ);
    float[] rowStat = fm.rowIsOverP() ? w.sumOverP : w.sumOverQ;
    float[] colStat = fm.rowIsOverP() ? w.sumOverQ : w.sumOverP;
    FactoredSecondMoment.decay(vRow, rowStat, vRow.length, f.beta2(), f.oneMinusBeta2());
    FactoredSecondMoment.decay(vCol, colStat, vCol.length, f.beta2(), f.oneMinusBeta2());
    fm.factors(vRow, vCol, w.rowMean, w.rowFactor, w.colFactor, w.walk);
    float[] factorOverP = fm.rowIsOverP() ? w.rowFactor : w.colFactor;
    float[] factorOverQ = fm.rowIsOverP() ? w.colFactor : w.rowFactor;
    // Pass 2: the fused update, one momentum block at a time, in place.
    int size = runs * len;
    for (int b = 0; b < m.length; b++) {
      if (b + 1 < m.length) {
        int next = (b + 1) * Bf16Momentum.BLOCK;
        w.sink += touch(g, gOff, p, pOff, m[b + 1], next, Bf16Momentum.blockLength(size, b + 1));
      }
      fm.update(g, gOff, p, pOff, m[b], b * Bf16Momentum.BLOCK, Bf16Momentum.blockLength(size, b), factorOverP,
          factorOverQ, w, f, decay);
    }
  }

  /**
   * Reads one value per cache line of a block's gradients, parameters and momentum (elements {@code [start, start +
   * len)}) ahead of its update, and returns a sum of them that the caller keeps so the JIT cannot drop the loads.
   * Why: the update runs several loops over a block, each streaming one array from memory, and one stream keeps too
   * few cache misses in flight to use the memory's bandwidth; these loads are independent, so the next block arrives
   * as a burst of parallel misses and its loops then read the L2 cache (12% less time per step on one thread).
   */
  private static int touch(float[] g, int gOff, float[] p, int pOff, int[] block, int start, int len) {
    int sum = 0;
    for (int i = start; i < start + len; i += FLOATS_PER_LINE) {
      sum += Float.floatToRawIntBits(g[gOff + i]) + Float.floatToRawIntBits(p[pOff + i]);
    }
    for (int j = 0; j < block.length; j += FLOATS_PER_LINE) {
      sum += block[j];
    }
    return sum;
  }

  private void updateUnfactored(float[] p, int pOff, float[] g, int gOff, int[][] m, float[] v, float decay,
                                StepFactors f, Workspace w) {
    for (int b = 0; b < m.length; b++) {
      int o = b * Bf16Momentum.BLOCK;
      int n = Bf16Momentum.blockLength(v.length, b);
      w.momentum.unpack(m[b], n, w.m);
      FusedUpdate.unfactored(g, gOff + o, p, pOff + o, v, o, w.m, n, f, decay);
      w.momentum.pack(w.m, n, m[b]);
    }
  }

  private void requireManifest(ParameterManifest m, String what) {
    if (m != manifest && !m.equals(manifest)) {
      throw new IllegalArgumentException("the " + what + " are laid out for " + m + " but this optimizer was built "
          + "for " + manifest + "; use buffers of the same manifest");
    }
  }

  private void requireState(OptimizerState state) {
    requireManifest(state.manifest(), "optimizer state");
    if (state.minDimToFactor() != config.minDimToFactor()) {
      throw new IllegalArgumentException("optimizer state was laid out with min_dim_to_factor "
          + state.minDimToFactor() + " but the config says " + config.minDimToFactor()
          + "; a resumed run must keep the factoring it started with");
    }
  }
}

package io.vitfleet.worker;

import io.vitfleet.model.HeadType;
import io.vitfleet.model.LossType;
import io.vitfleet.model.StageGraph;
import io.vitfleet.model.StageResult;
import io.vitfleet.model.ViTConfig;
import io.vitfleet.model.ViTParameters;
import io.vitfleet.model.Variant;
import io.vitfleet.protocol.ParameterManifest;
import java.util.Arrays;
import java.util.Random;

/**
 * One training step of a tiny ViT computed the way the one-process trainer ({@code LocalTrainer}) does it: per group
 * a zeroed accumulator, the group's microbatches in order through the whole-model graph with scale = global batch.
 * The cluster's group sums must equal these bit for bit.
 */
final class ReferenceStep {
  /** Width 16, depth 2, 2 heads, MLP 32, patch 7 on 28x28x1 images, 10 classes: 16 tokens. */
  static final ViTConfig MODEL = new ViTConfig(new Variant("tiny", 16, 2, 32, 2), 7, 28, 1, 10, HeadType.MAP,
      LossType.SOFTMAX);
  static final int MICROBATCH = 4;
  static final int K = 4;
  static final int GROUPS = 2;
  static final int GLOBAL_BATCH = MICROBATCH * K;
  /** TensorFlow threads of every graph of the test JVM (the intra-op pool is sized once per process). */
  static final int THREADS = 1;
  static final ParameterManifest FULL = ViTParameters.manifest(MODEL);

  final float[] params;
  final float[][] images = new float[K][];
  final int[][] labels = new int[K][];
  /** Per group: the weight-gradient sum (full manifest order) and the loss summed in microbatch order. */
  final float[][] groupSums = new float[GROUPS][];
  final double[] groupLoss = new double[GROUPS];
  /** The loss summed over all microbatches in order, as the trainer reports it. */
  final double totalLoss;

  /** Random inputs and perturbed parameters from {@code seed}, run through {@code whole}. */
  ReferenceStep(StageGraph whole, long seed) {
    Random random = new Random(seed);
    // Initialised parameters give a zero head kernel (so zero gradients below it): perturb every one.
    params = ViTParameters.initialise(MODEL, FULL, seed);
    for (int i = 0; i < params.length; i++) {
      params[i] += (float) (0.05 * random.nextGaussian());
    }
    for (int k = 0; k < K; k++) {
      images[k] = new float[whole.inputSize(MICROBATCH)];
      for (int i = 0; i < images[k].length; i++) {
        images[k][i] = random.nextFloat() * 2 - 1;
      }
      labels[k] = new int[MICROBATCH];
      for (int i = 0; i < MICROBATCH; i++) {
        labels[k][i] = random.nextInt(MODEL.classes());
      }
    }
    double loss = 0;
    for (int g = 0; g < GROUPS; g++) {
      float[] acc = new float[params.length];
      Arrays.fill(acc, 0f);
      for (int k = g * K / GROUPS; k < (g + 1) * K / GROUPS; k++) {
        StageResult r = whole.forwardBackward(params, images[k], labels[k], null, GLOBAL_BATCH, acc);
        loss += r.loss();
        groupLoss[g] += r.loss();
      }
      groupSums[g] = acc;
    }
    totalLoss = loss;
  }

  static StageGraph wholeModel() {
    return StageGraph.training(MODEL, 0, MODEL.depth(), MICROBATCH, THREADS);
  }

  /** Tensor {@code id}'s values in a full-manifest buffer. */
  static float[] slice(float[] flat, int id) {
    int offset = (int) FULL.offset(id);
    return Arrays.copyOfRange(flat, offset, offset + (int) FULL.get(id).size());
  }

  /** Whether {@code actual} has exactly the bits of tensor {@code id} of group {@code g}'s reference sum. */
  boolean isGroupSum(int g, int id, float[] actual) {
    return Arrays.equals(bits(slice(groupSums[g], id)), bits(actual));
  }

  /** Whether group g's sum of tensor {@code id} has a non-zero element, i.e. the gradient reached it. */
  boolean hasNonZeroGradient(int g, int id) {
    for (float v : slice(groupSums[g], id)) {
      if (v != 0f) {
        return true;
      }
    }
    return false;
  }

  private static int[] bits(float[] a) {
    int[] b = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      b[i] = Float.floatToRawIntBits(a[i]);
    }
    return b;
  }
}

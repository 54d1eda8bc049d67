package io.vitfleet.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.protocol.ParameterManifest;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The float32 stage graphs: determinism, pipeline splits, accumulation and inference. */
class StageGraphTest {
  private static final int BATCH = 4;
  private static final int THREADS = 2;

  /** A small model with enough blocks to split three ways. */
  static ViTConfig small(HeadType head) {
    return new ViTConfig(new Variant("small", 16, 3, 32, 2), 2, 8, 3, 5, head, LossType.SOFTMAX);
  }

  @Test
  void twoRunsWithTheSameInputsGiveBitIdenticalGradients() {
    ViTConfig c = small(HeadType.MAP);
    Batch b = Batch.random(c, 1);
    try (StageGraph g = StageGraph.training(c, 0, c.depth(), BATCH, THREADS)) {
      float[] params = params(c, g.manifest(), 2);
      float[] first = new float[params.length];
      float[] second = new float[params.length];
      StageResult r1 = g.forwardBackward(params, b.images, b.labels, null, BATCH, first);
      StageResult r2 = g.forwardBackward(params, b.images, b.labels, null, BATCH, second);
      assertEquals(r1.loss(), r2.loss());
      assertBitIdentical(first, second, "whole-model gradient of two identical runs");
    }
  }

  @ParameterizedTest
  @EnumSource(HeadType.class)
  void aThreeStageSplitReproducesTheWholeModelGradientsBitForBit(HeadType head) {
    ViTConfig c = small(head);
    Batch b = Batch.random(c, 3);
    float[] whole;
    double wholeLoss;
    ParameterManifest full = ViTParameters.manifest(c);
    float[] fullParams = params(c, full, 4);
    try (StageGraph g = StageGraph.training(c, 0, c.depth(), BATCH, THREADS)) {
      whole = new float[fullParams.length];
      wholeLoss = g.forwardBackward(fullParams, b.images, b.labels, null, BATCH, whole).loss();
    }

    int[][] ranges = {{0, 1}, {1, 2}, {2, 3}};
    StageGraph[] stages = new StageGraph[ranges.length];
    try {
      for (int s = 0; s < ranges.length; s++) {
        stages[s] = StageGraph.training(c, ranges[s][0], ranges[s][1], BATCH, THREADS);
      }
      float[][] p = new float[ranges.length][];
      float[][] grads = new float[ranges.length][];
      for (int s = 0; s < ranges.length; s++) {
        p[s] = slice(fullParams, full, stages[s].manifest());
        grads[s] = new float[p[s].length];
      }
      // Forward through the pipeline, then backward from the last stage, as a 1F1B schedule does per microbatch.
      float[] a0 = stages[0].forward(p[0], b.images);
      float[] a1 = stages[1].forward(p[1], a0);
      StageResult last = stages[2].forwardBackward(p[2], a1, b.labels, null, BATCH, grads[2]);
      StageResult mid = stages[1].forwardBackward(p[1], a0, null, last.inputGrad(), BATCH, grads[1]);
      StageResult firstStage = stages[0].forwardBackward(p[0], b.images, null, mid.inputGrad(), BATCH, grads[0]);

      assertArrayEquals(a0, firstStage.output(), "forward-only and forward+backward give the same activation");
      assertArrayEquals(a1, mid.output());
      assertNull(firstStage.inputGrad());
      assertEquals(wholeLoss, last.loss(), "loss of the split model");
      for (int s = 0; s < ranges.length; s++) {
        float[] expected = slice(whole, full, stages[s].manifest());
        assertWithin(expected, grads[s], 1e-6, "stage " + s + " " + stages[s]);
        assertBitIdentical(expected, grads[s], "stage " + s + " " + stages[s]);
      }
    } finally {
      for (StageGraph g : stages) {
        if (g != null) {
          g.close();
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(HeadType.class)
  void aStashedBackwardEqualsForwardBackwardBitForBitAndRunsNoInputDependentForwardOp(HeadType head) {
    ViTConfig c = small(head);
    Batch b = Batch.random(c, 7);
    ParameterManifest full = ViTParameters.manifest(c);
    float[] fullParams = params(c, full, 8);
    SplittableRandom rnd = new SplittableRandom(9);
    int[][] ranges = {{0, 1}, {1, 2}};
    float[] in = b.images;
    for (int[] range : ranges) {
      try (StageGraph g = StageGraph.training(c, range[0], range[1], BATCH, THREADS)) {
        float[] p = slice(fullParams, full, g.manifest());
        float[] dy = new float[g.activationSize(BATCH)];
        for (int i = 0; i < dy.length; i++) {
          dy[i] = (float) rnd.nextGaussian();
        }
        float[] recomputed = new float[p.length];
        StageResult reference = g.forwardBackward(p, in, null, dy, BATCH, recomputed);
        float[] stashedGrad = new float[p.length];
        StageResult viaStash;
        try (StageGraph.Stash stash = g.forwardStashed(p, in)) {
          assertArrayEquals(reference.output(), stash.output(), "stashed forward's activation, " + g);
          viaStash = g.backward(stash, p, dy, stashedGrad);
          Set<String> ran = g.opsRunByBackward(stash, p, dy);
          Set<String> recomputedOps = new TreeSet<>(ran);
          recomputedOps.retainAll(g.inputDependentOps());
          assertTrue(recomputedOps.isEmpty(), g + ": the stashed backward ran forward ops " + recomputedOps);
          assertTrue(ran.stream().anyMatch(n -> n.startsWith("gradients")), "the trace lists the gradient ops");
        }
        assertTrue(g.stashedTensorCount() > 0);
        assertBitIdentical(recomputed, stashedGrad, "weight gradient of " + g);
        if (g.isFirst()) {
          assertNull(viaStash.inputGrad());
        } else {
          assertBitIdentical(reference.inputGrad(), viaStash.inputGrad(), "input gradient of " + g);
        }
        in = reference.output();
      }
    }
  }

  @Test
  void aClosedStashIsRefusedAndTheLastStageHasNone() {
    ViTConfig c = small(HeadType.MAP);
    Batch b = Batch.random(c, 1);
    ParameterManifest full = ViTParameters.manifest(c);
    float[] fullParams = params(c, full, 2);
    try (StageGraph first = StageGraph.training(c, 0, 1, BATCH, THREADS);
         StageGraph last = StageGraph.training(c, 1, c.depth(), BATCH, THREADS)) {
      float[] p = slice(fullParams, full, first.manifest());
      StageGraph.Stash stash = first.forwardStashed(p, b.images);
      stash.close();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> first.backward(stash, p, new float[first.activationSize(BATCH)], new float[p.length]));
      assertTrue(e.getMessage().contains("closed"), e.getMessage());
      assertThrows(IllegalStateException.class,
          () -> last.forwardStashed(slice(fullParams, full, last.manifest()), new float[last.inputSize(BATCH)]));
    }
  }

  @Test
  void weightGradientsAreAddedIntoTheAccumulator() {
    // 20,000 classes: more parameters than one chunk of the accumulation, so chunk boundaries are crossed.
    ViTConfig c = new ViTConfig(new Variant("wide-head", 16, 1, 32, 2), 2, 8, 3, 20_000, HeadType.GAP,
        LossType.SOFTMAX);
    Batch b = Batch.random(c, 5);
    try (StageGraph g = StageGraph.training(c, 0, c.depth(), BATCH, THREADS)) {
      float[] params = params(c, g.manifest(), 6);
      float[] once = new float[params.length];
      g.forwardBackward(params, b.images, b.labels, null, BATCH, once);
      float[] acc = new float[params.length];
      for (int i = 0; i < acc.length; i++) {
        acc[i] = i % 7 - 3;
      }
      g.forwardBackward(params, b.images, b.labels, null, BATCH, acc);
      for (int i = 0; i < acc.length; i++) {
        assertEquals((i % 7 - 3) + once[i], acc[i], "element " + i);
      }
    }
  }

  @Test
  void theLossScaleDividesLossAndGradients() {
    ViTConfig c = small(HeadType.MAP);
    Batch b = Batch.random(c, 7);
    try (StageGraph g = StageGraph.training(c, 0, c.depth(), BATCH, THREADS)) {
      float[] params = params(c, g.manifest(), 8);
      float[] g1 = new float[params.length];
      float[] g4 = new float[params.length];
      double l1 = g.forwardBackward(params, b.images, b.labels, null, 1, g1).loss();
      double l4 = g.forwardBackward(params, b.images, b.labels, null, 4, g4).loss();
      assertEquals(l1 / 4, l4, 1e-6 * l1);
      for (int i = 0; i < g1.length; i++) {
        assertEquals(g1[i] / 4, g4[i], 1e-6 * Math.abs(g1[i]) + 1e-12, "element " + i);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(HeadType.class)
  void inferenceLogitsMatchTheTrainingGraphsLogitsForAnyBatchSize(HeadType head) {
    ViTConfig c = small(head);
    Batch b = Batch.random(c, 9);
    float[] params = params(c, ViTParameters.manifest(c), 10);
    float[] trainingLogits;
    int correct;
    try (StageGraph g = StageGraph.training(c, 0, c.depth(), BATCH, THREADS)) {
      trainingLogits = g.forward(params, b.images);
      correct = g.forwardBackward(params, b.images, b.labels, null, BATCH, new float[params.length]).correct();
    }
    try (StageGraph inf = StageGraph.inference(c, THREADS)) {
      Inference all = inf.infer(params, b.images, BATCH);
      assertWithin(trainingLogits, all.logits(), 1e-5, "logits");
      assertEquals(BATCH * c.width(), all.preLogits().length);
      int hits = 0;
      for (int i = 0; i < BATCH; i++) {
        hits += argmax(all.logits(), i * c.classes(), c.classes()) == b.labels[i] ? 1 : 0;
      }
      assertEquals(hits, correct, "correct count of the training graph");
      // One image alone gives the first row.
      int pixels = c.image() * c.image() * c.channels();
      float[] one = new float[pixels];
      System.arraycopy(b.images, 0, one, 0, pixels);
      Inference single = inf.infer(params, one, 1);
      float[] firstRow = new float[c.classes()];
      System.arraycopy(all.logits(), 0, firstRow, 0, c.classes());
      assertWithin(firstRow, single.logits(), 1e-5, "logits of a batch of one");
    }
  }

  @Test
  void stagesReportTheirRoleAndManifest() {
    ViTConfig c = small(HeadType.MAP);
    try (StageGraph g = StageGraph.training(c, 1, 2, BATCH, THREADS)) {
      assertTrue(!g.isFirst() && !g.isLast());
      assertEquals(ViTParameters.stageManifest(c, 1, 2), g.manifest());
      assertEquals(BATCH * c.tokens() * c.width(), g.inputSize(BATCH));
      float[] params = params(c, g.manifest(), 1);
      float[] act = new float[g.inputSize(BATCH)];
      StageResult r = g.forwardBackward(params, act, null, new float[g.activationSize(BATCH)], 1,
          new float[params.length]);
      assertNotNull(r.output());
      assertNotNull(r.inputGrad());
      assertTrue(Double.isNaN(r.loss()));
    }
  }

  @Test
  void inputsOfTheWrongSizeAreRejectedWithWhatWasExpected() {
    ViTConfig c = small(HeadType.MAP);
    try (StageGraph g = StageGraph.training(c, 0, c.depth(), BATCH, THREADS)) {
      float[] params = params(c, g.manifest(), 1);
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> g.forwardBackward(params, new float[3], new int[BATCH], null, 1, new float[params.length]));
      assertTrue(e.getMessage().contains("input has 3 elements"), e.getMessage());
      IllegalArgumentException badLabel = assertThrows(IllegalArgumentException.class,
          () -> g.forwardBackward(params, new float[g.inputSize(BATCH)], new int[] {0, 1, 5, 2}, null, 1,
              new float[params.length]));
      assertTrue(badLabel.getMessage().contains("label 5"), badLabel.getMessage());
    }
  }

  // ---------------------------------------------------------------------------------------------------------------

  record Batch(float[] images, int[] labels) {
    static Batch random(ViTConfig c, long seed) {
      SplittableRandom rnd = new SplittableRandom(seed);
      float[] images = new float[BATCH * c.image() * c.image() * c.channels()];
      for (int i = 0; i < images.length; i++) {
        images[i] = (float) VisionTransformerGradientTest.gaussian(rnd);
      }
      int[] labels = new int[BATCH];
      for (int i = 0; i < BATCH; i++) {
        labels[i] = rnd.nextInt(c.classes());
      }
      return new Batch(images, labels);
    }
  }

  /** Initialised parameters with a random head kernel, so every tensor gets a gradient. */
  static float[] params(ViTConfig c, ParameterManifest m, long seed) {
    float[] p = ViTParameters.initialise(c, m, seed);
    SplittableRandom rnd = new SplittableRandom(seed + 100);
    for (int i = 0; i < p.length; i++) {
      p[i] += (float) (0.05 * VisionTransformerGradientTest.gaussian(rnd));
    }
    return p;
  }

  /** The elements of {@code sub}'s tensors within a buffer laid out by {@code full}. */
  static float[] slice(float[] buffer, ParameterManifest full, ParameterManifest sub) {
    float[] out = new float[(int) sub.totalSize()];
    for (int i = 0; i < sub.count(); i++) {
      String name = sub.get(i).name();
      System.arraycopy(buffer, (int) full.offset(full.indexOf(name)), out, (int) sub.offset(i),
          (int) sub.get(i).size());
    }
    return out;
  }

  static void assertBitIdentical(float[] expected, float[] actual, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    int differing = 0;
    int firstIndex = -1;
    for (int i = 0; i < expected.length; i++) {
      if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
        if (differing++ == 0) {
          firstIndex = i;
        }
      }
    }
    if (differing > 0) {
      throw new AssertionError(what + ": " + differing + " of " + expected.length + " elements differ, first at "
          + firstIndex + ": " + expected[firstIndex] + " vs " + actual[firstIndex]);
    }
  }

  /** Max |a - e| / max(|e|max, floor): relative to the largest magnitude, with a small absolute floor. */
  static void assertWithin(float[] expected, float[] actual, double tolerance, String what) {
    assertEquals(expected.length, actual.length, what + ": length");
    double scale = 1e-6;
    for (float e : expected) {
      scale = Math.max(scale, Math.abs(e));
    }
    double worst = 0;
    int at = -1;
    for (int i = 0; i < expected.length; i++) {
      double d = Math.abs(expected[i] - actual[i]) / scale;
      if (d > worst) {
        worst = d;
        at = i;
      }
    }
    if (!(worst <= tolerance)) {
      throw new AssertionError(what + ": max relative difference " + worst + " at " + at + " (" + expected[at]
          + " vs " + actual[at] + ") exceeds " + tolerance);
    }
  }

  private static int argmax(float[] a, int offset, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) {
      if (a[offset + i] > a[offset + best]) {
        best = i;
      }
    }
    return best;
  }
}

package io.vitfleet.ops.train;

import io.vitfleet.feeder.Batcher;
import io.vitfleet.feeder.ImageDataset;
import io.vitfleet.feeder.Normalization;
import io.vitfleet.model.Inference;
import io.vitfleet.model.StageGraph;
import java.util.Arrays;

/** Forward passes over a data set split: test accuracy and frozen features. */
public final class Evaluation {
  /** Images per inference run: large enough to keep TensorFlow busy, small enough to keep memory flat. */
  static final int EVAL_BATCH = 500;

  private Evaluation() {
  }

  /** Top-1 accuracy of {@code params} on every example of {@code split}, in order. */
  public static double testAccuracy(StageGraph graph, float[] params, ImageDataset split, Normalization norm) {
    int classes = graph.config().classes();
    long[] correct = {0};
    forEachBatch(graph, params, split, norm, 0, split.size(), (done, labels, inf) -> {
      for (int i = 0; i < inf.n(); i++) {
        int best = 0;
        for (int c = 1; c < classes; c++) {
          if (inf.logits()[i * classes + c] > inf.logits()[i * classes + best]) {
            best = c;
          }
        }
        if (best == labels[i]) {
          correct[0]++;
        }
      }
    });
    return correct[0] / (double) split.size();
  }

  /** The pre_logits features {@code [count, width]} of examples {@code [first, first + count)} of {@code split}. */
  public static float[] features(StageGraph graph, float[] params, ImageDataset split, Normalization norm,
                                 int first, int count, int[] labelsOut) {
    int width = graph.config().width();
    float[] out = new float[count * width];
    forEachBatch(graph, params, split, norm, first, count, (done, labels, inf) -> {
      System.arraycopy(inf.preLogits(), 0, out, done * width, inf.n() * width);
      System.arraycopy(labels, 0, labelsOut, done, inf.n());
    });
    return out;
  }

  /** What to do with one inference batch: {@code done} examples precede it; its labels; its outputs. */
  private interface BatchConsumer {
    void accept(int done, int[] labels, Inference inference);
  }

  /** Runs inference over examples {@code [first, first + count)} of {@code split} in batches of EVAL_BATCH. */
  private static void forEachBatch(StageGraph graph, float[] params, ImageDataset split, Normalization norm,
                                   int first, int count, BatchConsumer consumer) {
    Batcher batcher = new Batcher(split, norm);
    float[] images = new float[EVAL_BATCH * batcher.floatsPerImage()];
    int[] labels = new int[EVAL_BATCH];
    for (int done = 0; done < count; done += EVAL_BATCH) {
      int n = Math.min(EVAL_BATCH, count - done);
      batcher.fillRange(first + done, n, images, labels);
      float[] in = n == EVAL_BATCH ? images : Arrays.copyOf(images, n * batcher.floatsPerImage());
      consumer.accept(done, labels, graph.infer(params, in, n));
    }
  }
}

package io.vitfleet.ops.train;

import io.vitfleet.feeder.Batcher;
import io.vitfleet.feeder.ImageDataset;
import io.vitfleet.feeder.Normalization;
import io.vitfleet.model.Inference;
import io.vitfleet.model.StageGraph;

/** Forward passes over a data set split: test accuracy and frozen features. */
public final class Evaluation {
  /** Images per inference run: large enough to keep TensorFlow busy, small enough to keep memory flat. */
  static final int EVAL_BATCH = 500;

  private Evaluation() {
  }

  /** Top-1 accuracy of {@code params} on every example of {@code split}, in order. */
  public static double testAccuracy(StageGraph graph, float[] params, ImageDataset split, Normalization norm) {
    Batcher batcher = new Batcher(split, norm);
    int classes = graph.config().classes();
    float[] images = new float[EVAL_BATCH * batcher.floatsPerImage()];
    int[] labels = new int[EVAL_BATCH];
    long correct = 0;
    for (int first = 0; first < split.size(); first += EVAL_BATCH) {
      int n = Math.min(EVAL_BATCH, split.size() - first);
      batcher.fillRange(first, n, images, labels);
      float[] in = n == EVAL_BATCH ? images : java.util.Arrays.copyOf(images, n * batcher.floatsPerImage());
      Inference inf = graph.infer(params, in, n);
      for (int i = 0; i < n; i++) {
        int best = 0;
        for (int c = 1; c < classes; c++) {
          if (inf.logits()[i * classes + c] > inf.logits()[i * classes + best]) {
            best = c;
          }
        }
        if (best == labels[i]) {
          correct++;
        }
      }
    }
    return correct / (double) split.size();
  }

  /** The pre_logits features {@code [count, width]} of examples {@code [first, first + count)} of {@code split}. */
  public static float[] features(StageGraph graph, float[] params, ImageDataset split, Normalization norm,
                                 int first, int count, int[] labelsOut) {
    Batcher batcher = new Batcher(split, norm);
    int width = graph.config().width();
    float[] out = new float[count * width];
    float[] images = new float[EVAL_BATCH * batcher.floatsPerImage()];
    int[] labels = new int[EVAL_BATCH];
    for (int done = 0; done < count; done += EVAL_BATCH) {
      int n = Math.min(EVAL_BATCH, count - done);
      batcher.fillRange(first + done, n, images, labels);
      float[] in = n == EVAL_BATCH ? images : java.util.Arrays.copyOf(images, n * batcher.floatsPerImage());
      Inference inf = graph.infer(params, in, n);
      System.arraycopy(inf.preLogits(), 0, out, done * width, n * width);
      System.arraycopy(labels, 0, labelsOut, done, n);
    }
    return out;
  }
}

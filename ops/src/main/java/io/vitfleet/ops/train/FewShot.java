package io.vitfleet.ops.train;

import io.vitfleet.feeder.FashionMnist;
import io.vitfleet.feeder.ImageDataset;
import io.vitfleet.feeder.Normalization;
import io.vitfleet.model.FewShotEvaluator;
import io.vitfleet.model.StageGraph;
import io.vitfleet.model.ViTConfig;
import io.vitfleet.model.ViTParameters;
import io.vitfleet.ops.UserError;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The few-shot linear evaluation of spec/vit.md on a checkpoint: frozen pre_logits features of a pool of training
 * examples (the shots are drawn from it per seed) and of the whole test split, then closed-form ridge regression.
 */
public final class FewShot {
  /** Training examples whose features form the pool the shots are drawn from (the first ones of the split). */
  public static final int DEFAULT_POOL = 10_000;

  private FewShot() {
  }

  /** Runs the sweep of {@code shots} x {@code seeds} on the latest checkpoint of {@code checkpointDir}. */
  public static FewShotEvaluator.Result evaluate(java.nio.file.Path checkpointDir, int pool, List<Integer> shots,
                                                 List<Long> seeds) {
    Checkpoint.Loaded c = Checkpoint.load(checkpointDir);
    JobConfig job = JobConfig.resume(c.jobText(), null, Map.of());
    ViTConfig model = job.model();
    if (!c.model().equals(model.describe())) {
      throw new UserError("checkpoint " + c.dir() + " records model " + c.model() + " but its job describes "
          + model.describe() + "; the checkpoint is inconsistent");
    }
    if (ViTParameters.manifest(model).totalSize() != c.params().length) {
      throw new UserError("checkpoint " + c.dir() + " has " + c.params().length + " parameters, its model needs "
          + ViTParameters.manifest(model).totalSize());
    }
    ImageDataset train = FashionMnist.train(job.dataDir());
    ImageDataset test = FashionMnist.test(job.dataDir());
    int n = Math.min(pool, train.size());
    Normalization norm = Normalization.minusOneToOne();
    try (StageGraph graph = StageGraph.inference(model, job.threads())) {
      int[] trainLabels = new int[n];
      float[] trainFeatures = Evaluation.features(graph, c.params(), train, norm, 0, n, trainLabels);
      int[] testLabels = new int[test.size()];
      float[] testFeatures = Evaluation.features(graph, c.params(), test, norm, 0, test.size(), testLabels);
      return FewShotEvaluator.evaluateAll(trainFeatures, trainLabels, testFeatures, testLabels, model.width(),
          model.classes(), shots, seeds);
    }
  }

  /** The table printed on the terminal. */
  public static String table(FewShotEvaluator.Result r) {
    StringBuilder sb = new StringBuilder();
    sb.append(String.format(Locale.ROOT, "%-6s %-9s %s%n", "shots", "accuracy", "per seed " + r.seeds()));
    for (FewShotEvaluator.ShotAccuracy row : r.rows()) {
      StringBuilder seeds = new StringBuilder();
      for (double a : row.perSeed()) {
        seeds.append(String.format(Locale.ROOT, "%.4f ", a));
      }
      sb.append(String.format(Locale.ROOT, "%-6d %-9.4f %s%n", row.shots(), row.mean(), seeds.toString().trim()));
    }
    return sb.toString();
  }

  /** JSON form: {"1": mean, "5": mean, ...} plus per-seed values. */
  public static Map<String, Object> json(FewShotEvaluator.Result r) {
    Map<String, Object> out = new LinkedHashMap<>();
    Map<String, Object> perSeed = new LinkedHashMap<>();
    for (FewShotEvaluator.ShotAccuracy row : r.rows()) {
      out.put(Integer.toString(row.shots()), row.mean());
      perSeed.put(Integer.toString(row.shots()), row.perSeed());
    }
    out.put("per_seed", perSeed);
    out.put("seeds", r.seeds());
    return out;
  }
}

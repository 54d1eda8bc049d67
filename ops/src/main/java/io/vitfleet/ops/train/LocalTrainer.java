package io.vitfleet.ops.train;

import io.vitfleet.feeder.BatchPlan;
import io.vitfleet.feeder.FashionMnist;
import io.vitfleet.feeder.ImageDataset;
import io.vitfleet.feeder.Normalization;
import io.vitfleet.feeder.TrainingBatches;
import io.vitfleet.model.StageGraph;
import io.vitfleet.model.StageResult;
import io.vitfleet.model.ViTConfig;
import io.vitfleet.model.ViTParameters;
import io.vitfleet.ops.UserError;
import io.vitfleet.protocol.ParameterManifest;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * Trains a ViT in one process: the reference the cluster must match bit for bit. It follows the architecture's units
 * of work — a global batch of fixed microbatches; weight gradients summed per group in microbatch order, group sums
 * summed in group order — then the optimizer of the parameter store updates the flat parameter buffer.
 */
public final class LocalTrainer implements AutoCloseable {

  /** What a run ends with. */
  public record Outcome(long step, double loss, double testAccuracy, String paramsHash, double imagesPerSecond,
                        Path checkpoint) {
  }

  private final JobConfig job;
  private final Path checkpointDir;
  private final ProgressReporter progress;
  private final ViTConfig model;
  private final ParameterManifest manifest;
  private final BatchPlan plan;
  private final TrainingBatches batches;
  private final ImageDataset test;
  private final Normalization normalization = Normalization.minusOneToOne();
  private final LocalOptimizer optimizer;
  private final float[] params;
  private long step;
  private StageGraph graph;
  private StageGraph evalGraph;

  /**
   * Prepares a run of {@code job}: from the latest checkpoint in {@code checkpointDir} when it has one, else from
   * the initialisation of the job's seed.
   */
  public LocalTrainer(JobConfig job, Path checkpointDir, ProgressReporter progress) {
    this.job = job;
    this.checkpointDir = checkpointDir;
    this.progress = progress;
    this.model = job.model();
    this.manifest = ViTParameters.manifest(model);
    if (manifest.totalSize() > 200_000_000L) {
      throw new UserError(model.name() + " has " + manifest.totalSize() + " parameters: too large to train in one "
          + "process here; choose a smaller variant, or train it on a cluster");
    }
    this.plan = new BatchPlan(job.globalBatch(), job.microbatch(), job.groups());
    ImageDataset train = FashionMnist.train(job.dataDir());
    this.test = FashionMnist.test(job.dataDir());
    checkData(job, train);
    this.batches = TrainingBatches.of(train, normalization, job.seed(), plan,
        job.job().getInt("data.augment.max_shift"), job.job().getBoolean("data.augment.flip"));
    this.optimizer = new LocalOptimizer(job, manifest);
    if (checkpointDir != null && Checkpoint.exists(checkpointDir)) {
      Checkpoint.Loaded c = Checkpoint.load(checkpointDir);
      if (!c.model().equals(model.describe())) {
        throw new UserError("checkpoint " + checkpointDir + " belongs to another model (" + c.model()
            + "), not " + model.describe() + "; use another --checkpoint directory or the checkpoint's own job");
      }
      this.params = c.params();
      this.step = c.step();
      try (InputStream in = Files.newInputStream(c.optimizerFile())) {
        optimizer.read(new DataInputStream(new java.io.BufferedInputStream(in, 1 << 20)));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read optimizer state of checkpoint " + c.dir(), e);
      }
      progress.line("resuming from step " + step + " of " + c.dir());
    } else {
      this.params = ViTParameters.initialise(model, manifest, job.seed());
      this.step = 0;
    }
  }

  /** Refuses a training split whose image shape or class count does not match the job's model, saying which. */
  public static void checkData(JobConfig job, ImageDataset train) {
    ViTConfig model = job.model();
    if (train.rows() != model.image() || train.cols() != model.image() || train.channels() != model.channels()) {
      throw new UserError("the model expects " + model.image() + "x" + model.image() + "x" + model.channels()
          + " images but " + job.dataDir() + " holds " + train.rows() + "x" + train.cols() + "x" + train.channels()
          + "; set model.image and model.channels to match");
    }
    if (train.classes() != model.classes()) {
      throw new UserError("the model has " + model.classes() + " classes but the data set has " + train.classes()
          + "; set model.classes to " + train.classes());
    }
  }

  public long step() {
    return step;
  }

  public float[] params() {
    return params;
  }

  public ParameterManifest manifest() {
    return manifest;
  }

  public ViTConfig model() {
    return model;
  }

  /** Trains until step {@code untilStep} (at most the job's steps) and returns the outcome. */
  public Outcome run(long untilStep) {
    long end = Math.min(untilStep, job.steps());
    if (graph == null) {
      graph = StageGraph.training(model, 0, model.depth(), job.microbatch(), job.threads());
    }
    int k = plan.microbatches();
    float[] images = new float[batches.imageFloatsPerMicrobatch()];
    int[] labels = new int[batches.labelsPerMicrobatch()];
    float[][] groupSums = new float[plan.groups()][params.length];
    float[] total = new float[params.length];
    double lastLoss = Double.NaN;
    long started = System.nanoTime();
    long firstStep = step;
    progress.startingAt(step);
    double lastAccuracy = Double.NaN;
    while (step < end) {
      double loss = 0;
      for (int g = 0; g < plan.groups(); g++) {
        float[] acc = groupSums[g];
        Arrays.fill(acc, 0f);
        for (int mb = plan.firstMicrobatch(g); mb < plan.endMicrobatch(g); mb++) {
          batches.fill(step, mb, images, labels);
          StageResult r = graph.forwardBackward(params, images, labels, null, job.globalBatch(), acc);
          loss += r.loss();
        }
      }
      System.arraycopy(groupSums[0], 0, total, 0, total.length);
      for (int g = 1; g < plan.groups(); g++) {
        float[] acc = groupSums[g];
        for (int i = 0; i < total.length; i++) {
          total[i] += acc[i];
        }
      }
      optimizer.update(params, total, step);
      step++;
      lastLoss = loss;
      double seconds = (System.nanoTime() - started) / 1e9;
      double ips = (step - firstStep) * (double) job.globalBatch() / seconds;
      progress.step(step, loss, ips);
      if (!Double.isFinite(loss)) {
        throw new IllegalStateException("the loss became " + loss + " at step " + step + "; lower optimizer.lr");
      }
      boolean last = step == end;
      if (job.evalEvery() > 0 && step % job.evalEvery() == 0 && !last) {
        lastAccuracy = testAccuracy();
        progress.line(String.format(Locale.ROOT, "step %d: test accuracy %.4f", step, lastAccuracy));
      }
      if (checkpointDir != null && job.checkpointEvery() > 0 && step % job.checkpointEvery() == 0 && !last) {
        save();
      }
    }
    double seconds = (System.nanoTime() - started) / 1e9;
    double ips = step > firstStep ? (step - firstStep) * (double) job.globalBatch() / seconds : 0;
    Path saved = checkpointDir != null ? save() : null;
    progress.finish();
    if (step == job.steps() || Double.isNaN(lastAccuracy)) {
      lastAccuracy = testAccuracy();
    }
    return new Outcome(step, lastLoss, lastAccuracy, Checkpoint.hash(params), ips, saved);
  }

  /** Writes a checkpoint of the current step. */
  public Path save() {
    return Checkpoint.save(checkpointDir, step, job.render(), model.describe(), manifest, params,
        out -> optimizer.write(new DataOutputStream(out)));
  }

  /** Accuracy of the current parameters on the whole test split. */
  public double testAccuracy() {
    return Evaluation.testAccuracy(evalGraph(), params, test, normalization);
  }

  StageGraph evalGraph() {
    if (evalGraph == null) {
      evalGraph = StageGraph.inference(model, job.threads());
    }
    return evalGraph;
  }

  @Override
  public void close() {
    if (graph != null) {
      graph.close();
    }
    if (evalGraph != null) {
      evalGraph.close();
    }
  }
}

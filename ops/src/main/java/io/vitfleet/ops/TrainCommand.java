package io.vitfleet.ops;

import io.vitfleet.ops.train.Checkpoint;
import io.vitfleet.ops.train.JobConfig;
import io.vitfleet.ops.train.LocalTrainer;
import io.vitfleet.ops.train.ProgressReporter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code vitfleet train}: trains a ViT in one process, with checkpoints it resumes from exactly. */
@Command(name = "train", mixinStandardHelpOptions = true,
    description = {"Trains a ViT in one process on Fashion-MNIST (the reference the cluster matches bit for bit).",
        "Resumes from the latest checkpoint in --checkpoint when there is one; a resumed run is bit-identical to an "
            + "uninterrupted one."})
final class TrainCommand implements Callable<Integer> {

  @Option(names = "--config", paramLabel = "FILE", description = "HOCON job file (settings under vitfleet.job).")
  Path config;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one job setting, e.g. --set "
      + "optimizer.lr=0.002 (repeatable; keys are relative to vitfleet.job).")
  Map<String, String> settings = new LinkedHashMap<>();

  @Option(names = "--variant", paramLabel = "NAME/PATCH", description = "Model variant, e.g. Ti/4.")
  String variant;

  @Option(names = "--steps", description = "Optimizer steps of the whole run.")
  Long steps;

  @Option(names = "--threads", description = "TensorFlow threads (part of the job: results are bit-identical "
      + "only at the same count).")
  Integer threads;

  @Option(names = "--seed", description = "Seed of the initialisation and the data order.")
  Long seed;

  @Option(names = "--data", paramLabel = "DIR", description = "Folder of the Fashion-MNIST IDX files.")
  Path data;

  @Option(names = "--checkpoint", paramLabel = "DIR", defaultValue = "runs/train",
      description = "Checkpoint directory (default: ${DEFAULT-VALUE}); training resumes from it.")
  Path checkpoint;

  @Option(names = "--restart", description = "Ignore the checkpoints in --checkpoint and start from step 0 "
      + "(they are replaced as new ones are written).")
  boolean restart;

  @Option(names = "--stop-at", paramLabel = "STEP", description = "Stop after this step with a checkpoint, as if "
      + "preempted; run again to resume.")
  Long stopAt;

  @Option(names = "--json", paramLabel = "FILE", description = "Write the outcome as JSON.")
  Path json;

  @Override
  public Integer call() {
    JobConfig job = resolveJob(config, settings, variant, steps, threads, seed, data, checkpoint, restart);
    if (restart) {
      Checkpoint.clear(checkpoint);
    }
    ProgressReporter progress = new ProgressReporter(System.out, ProgressReporter.stdoutIsTerminal(), 0,
        job.steps());
    System.out.println("training " + job.model().describe() + " for " + job.steps() + " steps, batch "
        + job.globalBatch() + " (" + job.microbatches() + " microbatches of " + job.microbatch() + " in "
        + job.groups() + " groups), " + job.threads() + " threads; checkpoints in " + checkpoint);
    long wallStart = System.nanoTime();
    try (LocalTrainer trainer = new LocalTrainer(job, checkpoint, progress)) {
      if (trainer.step() >= job.steps()) {
        System.out.println("the checkpoint is already at the last step (" + trainer.step() + "); nothing to train"
            + " (pass --restart to train again)");
      }
      LocalTrainer.Outcome o = trainer.run(stopAt != null ? stopAt : job.steps());
      double wall = (System.nanoTime() - wallStart) / 1e9;
      System.out.println(String.format(Locale.ROOT,
          "step %d: loss %.4f, test accuracy %.4f, %.0f images/s, wall %.1f s", o.step(), o.loss(),
          o.testAccuracy(), o.imagesPerSecond(), wall));
      System.out.println("parameters sha256 " + o.paramsHash());
      if (o.checkpoint() != null) {
        System.out.println("checkpoint " + o.checkpoint());
      }
      if (json != null) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("step", o.step());
        out.put("loss", o.loss());
        out.put("test_accuracy", o.testAccuracy());
        out.put("images_per_second", o.imagesPerSecond());
        out.put("wall_seconds", wall);
        out.put("params_sha256", o.paramsHash());
        out.put("checkpoint", String.valueOf(o.checkpoint()));
        JsonOutput.write(json, out);
      }
    }
    return 0;
  }

  /**
   * The job of a run: the checkpoint's own job when resuming (with any overrides the user gave, checked against it
   * by the trainer), else reference.conf + job file + flags.
   */
  static JobConfig resolveJob(Path config, Map<String, String> settings, String variant, Long steps,
                              Integer threads, Long seed, Path data, Path checkpoint, boolean restart) {
    Map<String, String> o = new LinkedHashMap<>(settings);
    if (variant != null) {
      o.put("model.variant", quote(variant));
    }
    if (steps != null) {
      o.put("steps", steps.toString());
    }
    if (threads != null) {
      o.put("threads", threads.toString());
    }
    if (seed != null) {
      o.put("seed", seed.toString());
    }
    if (data != null) {
      o.put("data.dir", quote(data.toString()));
    }
    if (!restart && checkpoint != null && Checkpoint.exists(checkpoint)) {
      return JobConfig.resume(Checkpoint.load(checkpoint).jobText(), config, o);
    }
    return JobConfig.load(config, o);
  }

  static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
  }
}

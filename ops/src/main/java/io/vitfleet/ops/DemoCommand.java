package io.vitfleet.ops;

import io.vitfleet.model.FewShotEvaluator;
import io.vitfleet.ops.train.Checkpoint;
import io.vitfleet.ops.train.FewShot;
import io.vitfleet.ops.train.JobConfig;
import io.vitfleet.ops.train.LocalTrainer;
import io.vitfleet.ops.train.ProgressReporter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vitfleet demo}: the main job on a fresh machine. Trains the default small ViT (ops' demo.conf) on
 * Fashion-MNIST, then runs the few-shot evaluation on its checkpoint, and ends with the figures and the wall time.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Trains the default small ViT on Fashion-MNIST (a fresh run), then evaluates it:",
        "test accuracy, few-shot accuracies (1, 5, 10, 25 shots, 3 seeds) and the wall time."})
final class DemoCommand implements Callable<Integer> {

  /** The demo job, a HOCON resource of the ops module over reference.conf. */
  static final String DEMO_JOB = "io/vitfleet/ops/demo.conf";

  @Option(names = "--checkpoint", paramLabel = "DIR", defaultValue = "runs/demo",
      description = "Where the demo's checkpoints go (default: ${DEFAULT-VALUE}); emptied at the start.")
  Path checkpoint;

  @Option(names = "--steps", description = "Override the demo's step count (for a quick look).")
  Long steps;

  @Option(names = "--json", paramLabel = "FILE",
      description = "Write test_accuracy, wall_seconds and fewshot as JSON.")
  Path json;

  @Override
  public Integer call() throws IOException {
    long start = System.nanoTime();
    Path jobFile = Files.createTempFile("vitfleet-demo", ".conf");
    try (InputStream in = DemoCommand.class.getClassLoader().getResourceAsStream(DEMO_JOB)) {
      if (in == null) {
        throw new IllegalStateException("the demo job " + DEMO_JOB + " is missing from the ops module");
      }
      Files.copy(in, jobFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
    Map<String, String> overrides = new LinkedHashMap<>();
    if (steps != null) {
      overrides.put("steps", steps.toString());
    }
    JobConfig job = JobConfig.load(jobFile, overrides);
    Files.deleteIfExists(jobFile);
    Checkpoint.clear(checkpoint);
    System.out.println("vitfleet demo: " + job.model().describe());
    System.out.println("  " + job.steps() + " steps of " + job.globalBatch() + " images ("
        + String.format(Locale.ROOT, "%.1f", job.steps() * (double) job.globalBatch() / 60000) + " epochs), "
        + job.threads() + " TensorFlow threads; checkpoints in " + checkpoint);
    LocalTrainer.Outcome o;
    ProgressReporter progress = new ProgressReporter(System.out, ProgressReporter.stdoutIsTerminal(), 0,
        job.steps());
    try (LocalTrainer trainer = new LocalTrainer(job, checkpoint, progress)) {
      o = trainer.run(job.steps());
    }
    double trainSeconds = (System.nanoTime() - start) / 1e9;
    System.out.println("few-shot evaluation on frozen pre_logits features ...");
    FewShotEvaluator.Result few = FewShot.evaluate(checkpoint, FewShot.DEFAULT_POOL, FewShotEvaluator.SHOTS,
        FewShotEvaluator.SEEDS);
    double wall = (System.nanoTime() - start) / 1e9;
    System.out.print(FewShot.table(few));
    System.out.println(String.format(Locale.ROOT, "test accuracy %.4f after %d steps (%.0f images/s)",
        o.testAccuracy(), o.step(), o.imagesPerSecond()));
    System.out.println(String.format(Locale.ROOT, "wall time %.1f s (training %.1f s)", wall, trainSeconds));
    if (json != null) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("test_accuracy", o.testAccuracy());
      out.put("wall_seconds", wall);
      out.put("fewshot", FewShot.json(few));
      out.put("model", job.model().describe());
      out.put("steps", o.step());
      out.put("images_per_second", o.imagesPerSecond());
      out.put("params_sha256", o.paramsHash());
      JsonOutput.write(json, out);
    }
    return 0;
  }
}

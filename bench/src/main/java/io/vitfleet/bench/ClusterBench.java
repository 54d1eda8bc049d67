package io.vitfleet.bench;

import com.typesafe.config.ConfigFactory;
import io.vitfleet.ops.JsonOutput;
import io.vitfleet.ops.cluster.ClusterRun;
import io.vitfleet.ops.cluster.ClusterSettings;
import io.vitfleet.ops.cluster.ClusterStatus;
import io.vitfleet.ops.train.JobConfig;
import io.vitfleet.ops.train.LocalTrainer;
import io.vitfleet.ops.train.ProgressReporter;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vitfleet bench cluster}: training images/s of {@code up} with two workers (P=2, one TensorFlow thread each,
 * on this machine's two cores) beside {@code train} in one process with two threads — same model, same batch, same
 * run. The ratio says what the pipeline, the data plane and the step protocol cost against one process.
 *
 * <p>Both sides are timed after the same warm-up. The cluster's six JVMs JIT-compile on the same two cores that train,
 * so its rate keeps rising for ~200 steps (on the demo's model: ~740 images/s over steps 5-45, ~900 over 40-100, ~990
 * over 100-200, ~1,070 after); the default warm-up of 200 steps times the steady state, which is what a training run
 * of thousands of steps sees. {@code --warmup 5} shows the start-up cost.
 */
@Command(name = "cluster", mixinStandardHelpOptions = true,
    description = "Images/s of a two-worker pipeline (P=2, 1 thread each) beside one process with 2 threads, same job.")
final class ClusterBench implements Callable<Integer> {

  @Option(names = "--warmup", defaultValue = "200",
      description = "Steps before timing, on both sides (default ${DEFAULT-VALUE}).")
  int warmup;

  @Option(names = "--steps", defaultValue = "100", description = "Timed steps (default ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--microbatch", defaultValue = "16",
      description = "Microbatch size b of the 128-image batch; K = 128 / b (default ${DEFAULT-VALUE}).")
  int microbatch;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the JSON here.")
  Path json;

  @Override
  public Integer call() throws Exception {
    long total = warmup + steps;
    double single = single(job(2, total));
    double cluster = cluster(job(1, total));
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("benchmark", "cluster");
    out.put("model", "width 64, depth 4, mlp 256, heads 4, patch 4 (the demo's), 28x28");
    out.put("global_batch", 128);
    out.put("microbatch", microbatch);
    out.put("warmup_steps", warmup);
    out.put("timed_steps", steps);
    out.put("cluster_images_per_second", cluster);
    out.put("single_images_per_second", single);
    out.put("ratio", cluster / single);
    String text = JsonOutput.mapper().writeValueAsString(out);
    System.out.println(text);
    if (json != null) {
      JsonOutput.write(json, out);
    }
    return 0;
  }

  /** The demo's model and batch with {@code threads} TensorFlow threads per process. */
  private JobConfig job(int threads, long total) {
    return JobConfig.fromConfig(ConfigFactory.parseString(
        "vitfleet.job { steps = " + total + ", threads = " + threads + ", eval_every = 0, checkpoint_every = 0\n"
            + "batch { global = 128, microbatch = " + microbatch + ", groups = 1 }\n"
            + "optimizer.schedule { warmup = 1, cooldown = 1 } }")
        .withFallback(ConfigFactory.parseResources("io/vitfleet/ops/demo.conf"))
        .withFallback(ConfigFactory.defaultReference()).resolve());
  }

  private double single(JobConfig job) {
    PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
    try (LocalTrainer t = new LocalTrainer(job, null, new ProgressReporter(quiet, false, 0, job.steps()))) {
      t.run(warmup);
      // imagesPerSecond counts only the steps of this call and stops before the final evaluation.
      return t.run(job.steps()).imagesPerSecond();
    }
  }

  private double cluster(JobConfig job) throws Exception {
    ClusterSettings s = ClusterSettings.local(2, 2, 1);
    Path dir = Files.createTempDirectory("vitfleet-bench-cluster");
    try (ClusterRun run = ClusterRun.start(job, s, dir, e -> { })) {
      long firstStep = -1;
      long firstNanos = 0;
      long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
      while (System.nanoTime() - deadline < 0) {
        Optional<ClusterStatus> st = run.launcher().status();
        if (st.isPresent()) {
          ClusterStatus c = st.get();
          if (c.isFailed()) {
            throw new IllegalStateException("the cluster failed: " + c.message() + "; see " + run.run().logs());
          }
          if (firstStep < 0 && c.step() >= warmup) {
            firstStep = c.step();
            firstNanos = System.nanoTime();
          }
          if (c.isDone()) {
            double seconds = (System.nanoTime() - firstNanos) / 1e9;
            return (c.step() - firstStep) * 128.0 / seconds;
          }
        }
        Thread.sleep(5);
      }
      throw new IllegalStateException("the cluster did not finish within 10 minutes; see " + run.run().logs());
    }
  }
}

package io.vitfleet.bench;

import io.vitfleet.ops.JsonOutput;
import io.vitfleet.ops.cluster.CheckDeterminismCommand;
import io.vitfleet.ops.cluster.ClusterLauncher;
import io.vitfleet.ops.cluster.ClusterRun;
import io.vitfleet.ops.cluster.ClusterSettings;
import io.vitfleet.ops.cluster.ClusterStatus;
import io.vitfleet.ops.train.JobConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vitfleet bench recovery}: seconds from kill -9 of a worker to the next committed step under a plan without
 * it, over several trials, and the steps lost (aborted). A two-worker pipeline (P=2, D=1) trains; each trial kills one of its workers at a random
 * instant of a step, times until the coordinator has re-planned on the survivor and committed the step again, then
 * starts a replacement worker and waits until it is back in the plan. The reference beside it is the median time of
 * an undisturbed step of the same run.
 */
@Command(name = "recovery", mixinStandardHelpOptions = true,
    description = "Seconds from kill -9 of a worker to the next committed step, over several trials.")
final class RecoveryBench implements Callable<Integer> {

  @Option(names = "--trials", defaultValue = "5", description = "Kills (default ${DEFAULT-VALUE}).")
  int trials;

  @Option(names = "--seed", defaultValue = "1", description = "Seed of the kill instants and victims.")
  long seed;

  @Option(names = "--json", paramLabel = "FILE", description = "Also write the JSON here.")
  Path json;

  @Override
  public Integer call() throws Exception {
    JobConfig job = CheckDeterminismCommand.job(Map.of(), 1_000_000);
    ClusterSettings s = ClusterSettings.local(2, 2, 1);
    Random random = new Random(seed);
    List<Double> recoveries = new ArrayList<>();
    List<Long> lost = new ArrayList<>();
    List<Double> stepTimes = new ArrayList<>();
    Path dir = Files.createTempDirectory("vitfleet-bench-recovery");
    try (ClusterRun run = ClusterRun.start(job, s, dir, e -> { })) {
      ClusterLauncher l = run.launcher();
      for (int t = 0; t < trials; t++) {
        // A two-stage plan of two live workers, a few steps into it.
        ClusterStatus ready = l.awaitStatus(c -> c.plan() != null && c.plan().stages() == 2
            && c.plan().workers().keySet().stream().allMatch(l::isAlive), Duration.ofMinutes(2));
        long from = ready.step();
        ClusterStatus warm = l.awaitStatus(c -> c.step() >= from + 5, Duration.ofMinutes(2));
        stepTimes.add(stepSeconds(l, warm.step()));
        Thread.sleep(random.nextInt(100));
        List<String> inPlan = new ArrayList<>(l.status().orElseThrow().plan().workers().keySet());
        String victim = inPlan.get(random.nextInt(inPlan.size()));
        ClusterStatus before = l.status().orElseThrow();
        long killNanos = System.nanoTime();
        l.kill(victim);
        // Recovered: a step committed under a plan without the victim. (A kill that lands after the victim's last
        // send can still see the step in flight commit; the cluster has not recovered until it steps without it.)
        ClusterStatus after = await(l, c -> c.step() > before.step() && c.plan() != null
            && !c.plan().workers().containsKey(victim));
        recoveries.add((System.nanoTime() - killNanos) / 1e9);
        lost.add(after.abortedSteps() - before.abortedSteps());
        l.addWorker();
      }
    }
    List<Double> sorted = new ArrayList<>(recoveries);
    sorted.sort(Double::compare);
    List<Double> steps = new ArrayList<>(stepTimes);
    steps.sort(Double::compare);
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("benchmark", "recovery");
    out.put("trials", trials);
    out.put("recovery_seconds", recoveries);
    out.put("recovery_seconds_median", median(sorted));
    out.put("steps_lost", lost);
    out.put("steps_lost_max", lost.stream().mapToLong(Long::longValue).max().orElse(0));
    out.put("step_seconds_median", median(steps));
    System.out.println(JsonOutput.mapper().writeValueAsString(out));
    if (json != null) {
      JsonOutput.write(json, out);
    }
    return 0;
  }

  /** The mean time of 20 undisturbed steps, from one commit to the 20th after it. */
  private static double stepSeconds(ClusterLauncher l, long step) throws Exception {
    long at = await(l, c -> c.step() > step).step();
    long start = System.nanoTime();
    await(l, c -> c.step() >= at + 20);
    return (System.nanoTime() - start) / 1e9 / 20;
  }

  /** Waits for a status, reading it every 5 ms (the launcher's default poll is too coarse to time a step). */
  private static ClusterStatus await(ClusterLauncher l, java.util.function.Predicate<ClusterStatus> until)
      throws Exception {
    return l.awaitStatus(until, Duration.ofMinutes(2), Duration.ofMillis(5));
  }


  private static double median(List<Double> sorted) {
    if (sorted.isEmpty()) {
      return Double.NaN;
    }
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }
}

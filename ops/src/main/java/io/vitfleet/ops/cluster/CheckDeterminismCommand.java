package io.vitfleet.ops.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import io.vitfleet.ops.JsonOutput;
import io.vitfleet.ops.UserError;
import io.vitfleet.ops.train.JobConfig;
import io.vitfleet.ops.train.LocalTrainer;
import io.vitfleet.ops.train.ProgressReporter;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Predicate;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vitfleet check determinism}: the promise that the cluster computes exactly what one process computes,
 * whatever the plan and whatever happens to the workers, checked end to end. One small job runs N steps four ways —
 * (a) {@code train} in this process, (b) {@code up} with P=2, D=1, (c) P=1, D=2, (d) P=2, D=1 with a worker killed
 * (kill -9) at a random instant and a new one joining — and the hashes of the final parameters must all be equal.
 */
@Command(name = "determinism", mixinStandardHelpOptions = true,
    description = "Train one small job as one process and as three clusters (P=2,D=1; P=1,D=2; P=2,D=1 with a worker "
        + "killed and one joining); print the final parameter hashes and whether they are identical.")
public final class CheckDeterminismCommand implements Callable<Integer> {

  @Option(names = "--steps", defaultValue = "5", description = "Steps of each run (default ${DEFAULT-VALUE}).")
  long steps;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override a setting of the check's job.")
  Map<String, String> settings = new LinkedHashMap<>();

  @Option(names = "--dir", paramLabel = "DIR", description = "Folder for the three cluster runs (default: a new "
      + "temporary folder).")
  Path dir;

  @Option(names = "--seed", defaultValue = "-1", description = "Seed of the random kill instant (default: random).")
  long killSeed;

  @Option(names = "--timeout", defaultValue = "PT10M", description = "Longest wait for one cluster run "
      + "(ISO-8601 duration, default ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--json", paramLabel = "FILE", description = "Write the outcome as JSON (keys hashes, identical).")
  Path json;

  private final PrintStream out;

  public CheckDeterminismCommand() {
    this(System.out);
  }

  CheckDeterminismCommand(PrintStream out) {
    this.out = out;
  }

  /** What the check found. */
  public record Outcome(Map<String, String> hashes, boolean identical, long steps, Map<String, Object> killRun) {
  }

  @Override
  public Integer call() throws Exception {
    if (steps < 2) {
      throw new UserError("--steps must be at least 2 (the check's schedule warms up for one step), got " + steps);
    }
    JobConfig job = job(settings, steps);
    Path base = dir != null ? dir : Files.createTempDirectory("vitfleet-determinism");
    Outcome o = run(job, base, killSeed < 0 ? new Random().nextLong() : killSeed, timeout, out);
    out.println();
    for (Map.Entry<String, String> e : o.hashes().entrySet()) {
      out.printf("%-28s %s%n", e.getKey(), e.getValue());
    }
    out.println(o.identical() ? "identical: yes" : "identical: NO");
    if (json != null) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("hashes", o.hashes());
      m.put("identical", o.identical());
      m.put("steps", o.steps());
      m.put("kill_run", o.killRun());
      JsonOutput.write(json, m);
    }
    return o.identical() ? 0 : 1;
  }

  /** The check's job (io/vitfleet/ops/check-determinism.conf) with {@code overrides} and {@code steps}. */
  public static JobConfig job(Map<String, String> overrides, long steps) {
    Config base = ConfigFactory.parseResources("io/vitfleet/ops/check-determinism.conf",
        ConfigParseOptions.defaults().setAllowMissing(false));
    Map<String, String> settings = new LinkedHashMap<>(overrides);
    settings.putIfAbsent("steps", Long.toString(steps));
    return JobConfig.loadOver(base, settings);
  }

  /** Runs the four ways under {@code base} and compares the hashes. */
  public static Outcome run(JobConfig job, Path base, long killSeed, Duration timeout, PrintStream out) {
    Map<String, String> hashes = new LinkedHashMap<>();
    out.println("(a) train in one process, " + job.steps() + " steps");
    hashes.put("train", trainHash(job, out));
    hashes.put("up P=2 D=1", cluster(job, base.resolve("p2d1"), 2, 1, timeout, out));
    hashes.put("up P=1 D=2", cluster(job, base.resolve("p1d2"), 1, 2, timeout, out));
    Map<String, Object> killRun = new LinkedHashMap<>();
    hashes.put("up P=2 D=1, kill + join", killAndJoin(job, base.resolve("p2d1-kill"), killSeed, timeout, out,
        killRun));
    boolean identical = new LinkedHashSet<>(hashes.values()).size() == 1;
    return new Outcome(hashes, identical, job.steps(), killRun);
  }

  /** The reference every cluster run must match: the hash of {@code train}'s final parameters, in this process. */
  public static String trainHash(JobConfig job, PrintStream out) {
    try (LocalTrainer t = new LocalTrainer(job, null, new ProgressReporter(out, false, 0, job.steps()))) {
      return t.run(job.steps()).paramsHash();
    }
  }

  private static String cluster(JobConfig job, Path dir, int stages, int replicas, Duration timeout,
                                PrintStream out) {
    out.println("(" + (stages == 2 ? "b" : "c") + ") up with P=" + stages + ", D=" + replicas + " in " + dir);
    try (ClusterRun run = ClusterRun.start(job, ClusterSettings.local(2, stages, replicas), dir, e -> { })) {
      ClusterStatus s = run.awaitDone(timeout);
      requirePlan(s, stages, replicas, dir);
      return run.stopAndHash();
    }
  }

  /** Fails naming the run when its plan is not P={@code stages}, D={@code replicas} as the check asked. */
  static void requirePlan(ClusterStatus s, int stages, int replicas, Path dir) {
    if (s.plan() == null || s.plan().stages() != stages || s.plan().replicas() != replicas) {
      throw new UserError("the run in " + dir + " did not use P=" + stages + ", D=" + replicas + " as asked: "
          + (s.plan() == null ? "no plan" : "P=" + s.plan().stages() + ", D=" + s.plan().replicas()));
    }
  }

  /**
   * (d): once the first step runs, waits a random fraction of a second, kills worker-2 with kill -9, and starts
   * worker-3 once the coordinator has re-planned without worker-2. Records the plans it saw (by polling the status)
   * and whether the newcomer was used.
   */
  private static String killAndJoin(JobConfig job, Path dir, long seed, Duration timeout, PrintStream out,
                                    Map<String, Object> report) {
    Random random = new Random(seed);
    out.println("(d) up with P=2, D=1; worker-2 killed at a random instant, worker-3 joining, in " + dir);
    try (ClusterRun run = ClusterRun.start(job, ClusterSettings.local(2, 2, 1), dir, e -> { })) {
      ClusterLauncher l = run.launcher();
      l.awaitStatus(s -> ClusterStatus.RUNNING.equals(s.state()) || s.isFinished(), timeout);
      long delayMs = random.nextInt(400);
      Thread.sleep(delayMs);
      long killedAt = l.status().map(ClusterStatus::step).orElse(-1L);
      l.kill("worker-2");
      List<String> plans = new ArrayList<>();
      Set<String> planned = new LinkedHashSet<>();
      long deadline = System.nanoTime() + timeout.toNanos();
      // The newcomer starts once the coordinator has re-planned on the survivor: started with the kill, it could
      // join before worker-2 is missed, and the survivor would never be seen running alone.
      ClusterStatus last = watch(l, plans, planned, deadline,
          s -> s.isFinished() || (s.plan() != null && !s.plan().workers().containsKey("worker-2")));
      String newcomer = l.addWorker();
      if (last == null || !last.isFinished()) {
        watch(l, plans, planned, deadline, ClusterStatus::isFinished);
      }
      ClusterStatus done = run.awaitDone(Duration.ofSeconds(1));
      report.put("kill_delay_ms", delayMs);
      report.put("killed_during_step", killedAt);
      report.put("aborted_steps", done.abortedSteps());
      report.put("plans", plans);
      report.put("newcomer", newcomer);
      report.put("newcomer_used", planned.contains(newcomer));
      out.println("    killed worker-2 during step " + killedAt + " (" + delayMs + " ms into the run), "
          + done.abortedSteps() + " step(s) aborted; plans " + plans + "; " + newcomer
          + (planned.contains(newcomer) ? " was used" : " joined after the last step"));
      return run.stopAndHash();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted");
    } catch (java.util.concurrent.TimeoutException e) {
      throw new UserError("the kill run in " + dir + " never started: " + e.getMessage());
    }
  }

  /**
   * Polls the status every 20 ms until {@code until} holds or the deadline passes, recording each new plan (version,
   * P, D, workers, the committed step when first seen) and every worker planned in; returns the last status read, or null if none was.
   */
  private static ClusterStatus watch(ClusterLauncher l, List<String> plans, Set<String> planned, long deadline,
                                     Predicate<ClusterStatus> until) throws InterruptedException {
    ClusterStatus last = null;
    while (System.nanoTime() - deadline < 0) {
      Optional<ClusterStatus> s = l.status();
      if (s.isPresent()) {
        last = s.get();
        if (last.plan() != null) {
          String p = "v" + last.plan().version() + " P=" + last.plan().stages() + " D=" + last.plan().replicas()
              + " " + last.plan().workers().keySet();
          if (plans.isEmpty() || !plans.get(plans.size() - 1).startsWith(p + " ")) {
            plans.add(p + " (seen at step " + last.step() + ")");
          }
          planned.addAll(last.plan().workers().keySet());
        }
        if (until.test(last)) {
          return last;
        }
      }
      Thread.sleep(20);
    }
    return last;
  }
}

package io.vitfleet.ops.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.vitfleet.coordinator.plan.PlanConstraints;
import io.vitfleet.coordinator.plan.Planner;
import io.vitfleet.feeder.FashionMnist;
import io.vitfleet.ops.JsonOutput;
import io.vitfleet.ops.UserError;
import io.vitfleet.ops.train.Checkpoint;
import io.vitfleet.ops.train.JobConfig;
import io.vitfleet.ops.train.LocalTrainer;
import io.vitfleet.ops.train.LocalOptimizer;
import io.vitfleet.ops.train.ProgressReporter;
import io.vitfleet.protocol.control.JobSpec;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.control.WorkerInfo;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code vitfleet up}: runs a training job on a whole cluster on this machine (coordinator, shards, feeder, workers
 * as separate JVMs; docs/cluster.md) and follows it to the end. Everything that can be refused is refused before
 * any process starts: the job and its optimizer settings, its data set, the plan (the planner runs here first, on
 * the workers about to start) and the port.
 */
@Command(name = "up", mixinStandardHelpOptions = true,
    description = {"Runs a training job on a cluster of processes on this machine (a coordinator, param-store shards, "
        + "a data feeder and workers) and shows its progress until the last step.",
        "Ctrl-C stops every process. Shard stores persist in the run folder: 'up' again with the same --dir and job "
            + "continues from the last committed step."})
public final class UpCommand implements Callable<Integer> {
  /** How often the status file is read while following the job. */
  private static final Duration POLL = Duration.ofMillis(250);

  @Option(names = "--workers", paramLabel = "N",
      description = "Worker processes to start (default: vitfleet.cluster.workers, 2).")
  Integer workers;

  @Option(names = "--stages", paramLabel = "P", description = "Pipeline depth P (default: the planner chooses).")
  Integer stages;

  @Option(names = "--replicas", paramLabel = "D",
      description = "Data-parallel replicas D (default: the planner chooses).")
  Integer replicas;

  @Option(names = "--shards", paramLabel = "S",
      description = "Param-store shards (default: vitfleet.cluster.shards, 2).")
  Integer shards;

  @Option(names = "--config", paramLabel = "FILE", description = "HOCON job file (settings under vitfleet.job).")
  Path config;

  @Option(names = "--set", paramLabel = "KEY=VALUE", description = "Override one job setting, e.g. --set "
      + "optimizer.lr=0.002 (repeatable; keys are relative to vitfleet.job).")
  Map<String, String> settings = new LinkedHashMap<>();

  @Option(names = "--steps", description = "Optimizer steps of the whole run.")
  Long steps;

  @Option(names = "--dir", paramLabel = "RUNDIR",
      description = "Run folder (default: runs/<start time>); runs/LATEST points at the newest.")
  Path dir;

  @Option(names = "--port", description = "The coordinator's Pekko port on 127.0.0.1 (default: "
      + "vitfleet.cluster.port, 25520; 0 = any free port).")
  Integer port;

  @Option(names = "--hosts", paramLabel = "K", description = "Simulate K hosts on this machine: members are spread "
      + "round-robin over K host identities (consecutive workers on different ones), and tensors between hosts go "
      + "over Aeron UDP on loopback instead of IPC (default: vitfleet.cluster.simulated-hosts, 1).")
  Integer hosts;

  @Option(names = "--udp-ports", paramLabel = "FIRST-LAST", description = "UDP ports of the data plane, one per "
      + "member, when UDP is on (--hosts > 1 or vitfleet.cluster.udp.enabled), e.g. 21000-21099; 0 = any free ports "
      + "(default: vitfleet.cluster.udp.ports).")
  String udpPorts;

  @Option(names = "--step-timeout", paramLabel = "DURATION", description = "A step not committed within this is "
      + "aborted and run again, e.g. 60s or 2m (default: vitfleet.cluster.step-timeout, 60s).")
  String stepTimeout;

  @Option(names = "--worker-heap", paramLabel = "SIZE", description = "Each worker JVM's heap, which is also the "
      + "memory it declares to the planner, e.g. 4g (default: vitfleet.cluster.worker-heap, 2g).")
  String workerHeap;

  @Option(names = "--json", paramLabel = "FILE", description = "Write the outcome as JSON.")
  Path json;

  private final Supplier<ClusterLauncher.Launch> launch;

  UpCommand() {
    this(ClusterLauncher.Launch::nodeMain);
  }

  /** An {@code up} that starts members as {@code launch} says (tests: a stand-in for NodeMain). */
  UpCommand(Supplier<ClusterLauncher.Launch> launch) {
    this.launch = launch;
  }

  @Override
  public Integer call() throws InterruptedException {
    Map<String, String> overrides = new LinkedHashMap<>(settings);
    if (steps != null) {
      overrides.put("steps", steps.toString());
    }
    JobConfig job = JobConfig.load(config, overrides);
    LocalOptimizer.config(job);
    checkData(job);
    ClusterSettings cluster = clusterSettings();
    Plan plan = expectedPlan(job, cluster);
    ClusterLauncher.requireFreePort(cluster.port());
    ClusterLauncher.requireFreeUdpPorts(cluster);
    ClusterLauncher.Launch how = launch.get();
    RunDirectory run = RunDirectory.create(dir != null ? dir : RunDirectory.newRunPath(RunDirectory.DEFAULT_RUNS));
    run.writeJobConf(job.render());

    PrintStream out = System.out;
    out.println("training " + job.model().describe() + " for " + job.steps() + " steps, batch " + job.globalBatch()
        + " (" + job.microbatches() + " microbatches of " + job.microbatch() + " in " + job.groups() + " groups) on "
        + count(cluster.workers(), "worker") + ", " + count(cluster.shards(), "shard")
        + (cluster.simulatedHosts() > 1 ? " over " + cluster.simulatedHosts() + " simulated hosts (UDP between "
        + "them, ports " + cluster.udp().ports() + ")" : "") + "; run folder " + run);
    out.println("expected plan: " + describe(plan));
    ProgressReporter progress = new ProgressReporter(out, ProgressReporter.stdoutIsTerminal(), 0, job.steps());
    long wallStart = System.nanoTime();
    try (ClusterLauncher launcher = new ClusterLauncher(run, cluster, how, line -> {
      synchronized (progress) {
        progress.line(line);
      }
    })) {
      launcher.start();
      Outcome o = follow(launcher, progress);
      synchronized (progress) {
        progress.finish();
      }
      double wall = (System.nanoTime() - wallStart) / 1e9;
      out.println("stopping the cluster");
      launcher.stop();
      String hash = null;
      if (o.status != null && o.status.isDone() && how.mainClass().equals(ClusterLauncher.NODE_MAIN)) {
        // The final parameters, read back from the stopped shards: the hash `train` prints for the same job.
        hash = Checkpoint.hash(ShardExport.read(run.root(), job, cluster.shards()).params());
      }
      if (json != null) {
        Map<String, Object> summary = summary(o, run, wall);
        summary.put("params_hash", hash);
        JsonOutput.write(json, summary);
      }
      if (o.status != null && o.status.isDone()) {
        ClusterStatus s = o.status;
        out.println(String.format(Locale.ROOT, "step %d/%d: loss %.4f, %.0f images/s, wall %.1f s", s.step(),
            s.totalSteps(), s.loss(), s.imagesPerSecond(), wall));
        if (hash != null) {
          out.println("parameters hash " + hash);
        }
        out.println("run folder " + run);
        return 0;
      }
      System.err.println("vitfleet: error: the job failed: " + o.failure + "; logs in " + run.logs());
      return 1;
    }
  }

  /** The end of a run: the last status (done, or not), and why it failed when it did. */
  private record Outcome(ClusterStatus status, String failure) {
  }

  /**
   * Shows the coordinator's status as it changes, until the job is done or failed. Once Ctrl-C has begun stopping
   * the cluster it stays quiet until the JVM exits.
   */
  private static Outcome follow(ClusterLauncher launcher, ProgressReporter progress) throws InterruptedException {
    ClusterStatus last = null;
    boolean counting = false;
    while (true) {
      if (launcher.isStopping()) {
        Thread.sleep(POLL.toMillis());
        continue;
      }
      Optional<ClusterStatus> read;
      try {
        read = launcher.status();
      } catch (IllegalStateException unreadable) {
        read = Optional.empty();
      }
      if (read.isPresent()) {
        ClusterStatus s = read.get();
        synchronized (progress) {
          if (counting && s.step() > last.step()) {
            progress.step(s.step(), s.loss(), s.imagesPerSecond());
          }
          for (String line : changes(last, s)) {
            progress.line(line);
          }
          if (!counting && ClusterStatus.RUNNING.equals(s.state())) {
            progress.startingAt(s.step());
            counting = true;
          }
        }
        last = s;
        if (s.isDone()) {
          return new Outcome(s, null);
        }
        if (s.isFailed()) {
          return new Outcome(s, s.message().isEmpty() ? "the coordinator reports state failed" : s.message());
        }
      }
      Optional<String> failure = launcher.failure();
      if (failure.isPresent()) {
        return new Outcome(last, failure.get());
      }
      Thread.sleep(POLL.toMillis());
    }
  }

  private static String count(int n, String thing) {
    return n + " " + thing + (n == 1 ? "" : "s");
  }

  /** Lines worth a log line between two statuses: state, plan and membership changes. */
  static List<String> changes(ClusterStatus before, ClusterStatus now) {
    List<String> lines = new ArrayList<>();
    boolean stateChanged = before == null || !before.state().equals(now.state());
    boolean planChanged = now.plan() != null
        && (before == null || before.plan() == null || before.plan().version() != now.plan().version());
    if (stateChanged || planChanged) {
      StringBuilder b = new StringBuilder("cluster ").append(now.state());
      if (now.plan() != null) {
        b.append(", plan v").append(now.plan().version()).append(": ").append(StatusCommand.describe(now.plan()));
      }
      if (!now.message().isEmpty() && !now.message().equals(now.state()) && !now.isFailed()) {
        b.append(" (").append(now.message()).append(')');
      }
      lines.add(b.toString());
    }
    Set<String> was = before == null ? Set.of() : ids(before);
    Set<String> is = ids(now);
    for (String id : is) {
      if (!was.contains(id)) {
        lines.add(id + " joined");
      }
    }
    for (String id : was) {
      if (!is.contains(id)) {
        lines.add(id + " left");
      }
    }
    return lines;
  }

  private static Set<String> ids(ClusterStatus s) {
    return s.members().stream().map(ClusterStatus.Member::id).collect(Collectors.toCollection(LinkedHashSet::new));
  }

  private static Map<String, Object> summary(Outcome o, RunDirectory run, double wall) {
    Map<String, Object> m = new LinkedHashMap<>();
    ClusterStatus s = o.status;
    m.put("state", s == null ? ClusterStatus.FAILED : (o.failure == null ? s.state() : ClusterStatus.FAILED));
    if (o.failure != null) {
      m.put("message", o.failure);
    }
    if (s != null) {
      m.put("job_id", s.jobId());
      m.put("step", s.step());
      m.put("total_steps", s.totalSteps());
      m.put("loss", Double.isNaN(s.loss()) ? null : s.loss());
      m.put("images_per_second", Double.isNaN(s.imagesPerSecond()) ? null : s.imagesPerSecond());
      m.put("aborted_steps", s.abortedSteps());
      m.put("drops", s.drops());
      m.put("plan", s.json().get("plan"));
    }
    m.put("wall_seconds", wall);
    m.put("run_dir", run.toString());
    return m;
  }

  /**
   * The data set the feeder will read, checked as {@code train} checks it (same messages), so a missing or
   * mismatched data set stops here and not in the feeder's log.
   */
  static void checkData(JobConfig job) {
    LocalTrainer.checkData(job, FashionMnist.train(job.dataDir()));
  }

  /**
   * The plan the coordinator will start from, made here first on the workers about to start (each declaring its
   * heap), so an impossible request (more stages than blocks, more replicas than groups, too little memory) is
   * refused with the planner's message before any process runs.
   */
  static Plan expectedPlan(JobConfig job, ClusterSettings cluster) {
    JobSpec jobSpec = new JobSpec(0L, job.model().name(), job.dataset(), job.globalBatch(), job.microbatch(),
        job.groups(), job.seed());
    long declared = ClusterLauncher.heapBytes("--worker-heap", cluster.workerHeap());
    List<WorkerInfo> ws = new ArrayList<>();
    for (int n = 1; n <= cluster.workers(); n++) {
      ws.add(new WorkerInfo("worker-" + n, "127.0.0.1", declared, 0.0, "aeron:ipc"));
    }
    return new Planner(job.model(), jobSpec, cluster.shards())
        .plan(ws, new PlanConstraints(cluster.stages(), cluster.replicas()), 0);
  }

  static String describe(Plan plan) {
    StringBuilder b = new StringBuilder();
    b.append("P=").append(plan.pipelineDepth()).append(" x D=").append(plan.dataParallel()).append(", blocks");
    for (Plan.StageLayers s : plan.stages()) {
      b.append(" [").append(s.firstBlock()).append(',').append(s.endBlock()).append(')');
    }
    for (Plan.WorkerAssignment w : plan.workers()) {
      b.append(", ").append(w.workerId()).append("->(").append(w.replica()).append(',').append(w.stage())
          .append(')');
    }
    return b.toString();
  }

  /**
   * The cluster's settings: the flags given, over {@code vitfleet.cluster} of the job file (if any), over the
   * reference defaults.
   */
  ClusterSettings clusterSettings() {
    Map<String, Object> flags = new LinkedHashMap<>();
    putIfGiven(flags, "workers", workers);
    putIfGiven(flags, "shards", shards);
    putIfGiven(flags, "stages", stages);
    putIfGiven(flags, "replicas", replicas);
    putIfGiven(flags, "port", port);
    putIfGiven(flags, "simulated-hosts", hosts);
    putIfGiven(flags, "udp.ports", udpPorts);
    putIfGiven(flags, "step-timeout", stepTimeout == null ? null : duration(stepTimeout));
    putIfGiven(flags, "worker-heap", workerHeap);
    Config c = ConfigFactory.parseMap(flags);
    if (config != null) {
      c = c.withFallback(ConfigFactory.parseFile(config.toFile()));
    }
    ClusterSettings s = ClusterSettings.from(c.withFallback(ConfigFactory.defaultReference()).resolve());
    if (s.port() < 0 || s.port() > 65535) {
      throw new UserError("--port must be 0..65535, got " + s.port());
    }
    if (s.stepTimeout().isNegative() || s.stepTimeout().isZero()) {
      throw new UserError("--step-timeout must be positive, got " + stepTimeout);
    }
    ClusterLauncher.heapBytes("--worker-heap", s.workerHeap());
    ClusterLauncher.heapBytes("vitfleet.cluster.member-heap", s.memberHeap());
    return s;
  }

  private static void putIfGiven(Map<String, Object> flags, String key, Object value) {
    if (value != null) {
      flags.put(ClusterSettings.ROOT + "." + key, value);
    }
  }

  /** A bare number of seconds becomes HOCON's {@code 60s}; anything else is left for HOCON to read. */
  private static String duration(String value) {
    String v = value.trim();
    return v.matches("\\d+") ? v + "s" : v;
  }
}

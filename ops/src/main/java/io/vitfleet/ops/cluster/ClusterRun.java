package io.vitfleet.ops.cluster;

import io.vitfleet.ops.UserError;
import io.vitfleet.ops.train.Checkpoint;
import io.vitfleet.ops.train.JobConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * One whole cluster run of a job, for tools that need its outcome rather than its progress ({@code check
 * determinism}, the cluster benchmarks, the chaos tests): start, wait for the job to end, stop, and read the final
 * parameters back from the shard stores.
 */
public final class ClusterRun implements AutoCloseable {
  private final JobConfig job;
  private final ClusterSettings settings;
  private final RunDirectory run;
  private final ClusterLauncher launcher;

  private ClusterRun(JobConfig job, ClusterSettings settings, RunDirectory run, ClusterLauncher launcher) {
    this.job = job;
    this.settings = settings;
    this.run = run;
    this.launcher = launcher;
  }

  /** Starts {@code job} on the cluster {@code settings} describe, in run folder {@code dir}. */
  public static ClusterRun start(JobConfig job, ClusterSettings settings, Path dir, Consumer<String> events) {
    RunDirectory run = RunDirectory.create(dir);
    run.writeJobConf(job.render());
    ClusterLauncher launcher = new ClusterLauncher(run, settings, ClusterLauncher.Launch.nodeMain(), events);
    launcher.start();
    return new ClusterRun(job, settings, run, launcher);
  }

  public ClusterLauncher launcher() {
    return launcher;
  }

  public RunDirectory run() {
    return run;
  }

  /** Waits until the job is done; a failed job or a timeout is an error naming the run's logs. */
  public ClusterStatus awaitDone(Duration timeout) {
    ClusterStatus s;
    try {
      s = launcher.awaitStatus(ClusterStatus::isFinished, timeout);
    } catch (TimeoutException | IllegalStateException e) {
      throw new UserError("the cluster run in " + run.root() + " did not finish: " + e.getMessage() + "; see "
          + run.logs());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new UserError("interrupted while waiting for the cluster run in " + run.root());
    }
    if (s.isFailed()) {
      throw new UserError("the cluster run in " + run.root() + " failed: " + s.message() + "; see " + run.logs());
    }
    return s;
  }

  /** Stops every process and returns the final committed step's parameters, read from the shard stores. */
  public ShardExport.Committed stopAndRead() {
    launcher.stop();
    return ShardExport.read(run.root(), job, settings.shards());
  }

  /** {@link #stopAndRead} as the hash {@code train} prints. */
  public String stopAndHash() {
    return Checkpoint.hash(stopAndRead().params());
  }

  @Override
  public void close() {
    launcher.stop();
  }
}

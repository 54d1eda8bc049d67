package io.vitfleet.ops.cluster;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import io.vitfleet.ops.UserError;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The cluster's own settings ({@code vitfleet.cluster}, defaults in ops' reference.conf): how many shards and workers
 * `up` starts, what it asks of the plan, the step deadline and the JVM heaps. The launcher writes them to
 * {@code <run dir>/cluster.conf}; every member reads the same file.
 */
public record ClusterSettings(int shards, int workers, int stages, int replicas, int minWorkers,
                              Duration stepTimeout, String workerHeap, String memberHeap, int port) {
  public static final String ROOT = "vitfleet.cluster";
  public static final String FILE = "cluster.conf";

  public ClusterSettings {
    if (shards < 1 || workers < 0 || stages < 0 || replicas < 0 || minWorkers < 0) {
      throw new UserError("cluster settings: shards must be >= 1 and workers, stages, replicas, min-workers >= 0; "
          + "got shards=" + shards + " workers=" + workers + " stages=" + stages + " replicas=" + replicas);
    }
  }

  /** Reads {@code vitfleet.cluster} from {@code c} (which includes the reference defaults). */
  public static ClusterSettings from(Config c) {
    try {
      Config k = c.getConfig(ROOT);
      return new ClusterSettings(k.getInt("shards"), k.getInt("workers"), k.getInt("stages"), k.getInt("replicas"),
          k.getInt("min-workers"), k.getDuration("step-timeout"), k.getString("worker-heap"),
          k.getString("member-heap"), k.getInt("port"));
    } catch (ConfigException e) {
      throw new UserError("bad cluster setting: " + e.getMessage());
    }
  }

  /**
   * The default cluster with {@code workers} workers (all waited for), the plan asked as P={@code stages},
   * D={@code replicas}, and any free port: what the checks, benchmarks and chaos tests run.
   */
  public static ClusterSettings local(int workers, int stages, int replicas) {
    ClusterSettings d = from(ConfigFactory.defaultReference());
    return new ClusterSettings(d.shards(), workers, stages, replicas, workers, d.stepTimeout(), d.workerHeap(),
        d.memberHeap(), 0);
  }

  /** Reads {@code <run dir>/cluster.conf} over the defaults. */
  public static ClusterSettings read(Path runDir) {
    Path f = runDir.resolve(FILE);
    if (!Files.isRegularFile(f)) {
      throw new UserError("no " + FILE + " in " + runDir + ": start members through `vitfleet up`");
    }
    return from(ConfigFactory.parseFile(f.toFile()).withFallback(ConfigFactory.defaultReference()).resolve());
  }

  /** Workers to wait for before the first plan. */
  public int workersToWaitFor() {
    return minWorkers > 0 ? minWorkers : Math.max(1, workers);
  }

  /** As HOCON, for {@code cluster.conf}. */
  public String render() {
    return ROOT + " {\n  shards = " + shards + "\n  workers = " + workers + "\n  stages = " + stages
        + "\n  replicas = " + replicas + "\n  min-workers = " + minWorkers + "\n  step-timeout = "
        + stepTimeout.toMillis() + "ms\n  worker-heap = \"" + workerHeap + "\"\n  member-heap = \"" + memberHeap
        + "\"\n  port = " + port + "\n}\n";
  }
}

package io.vitfleet.ops.cluster;

import static org.junit.jupiter.api.Assertions.fail;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BooleanSupplier;

/** What the launcher tests share: a small cluster of stand-in members, waiting, and running a command. */
final class LauncherFixtures {
  /** How long a test waits for something that normally takes a second: a guard against hangs, not a measure. */
  static final Duration PATIENCE = Duration.ofSeconds(60);

  private LauncherFixtures() {
  }

  /** One shard, one worker, any free port, small heaps. */
  static ClusterSettings smallCluster() {
    return ClusterSettings.from(ConfigFactory.parseString("vitfleet.cluster { shards = 1, workers = 1, port = 0, "
        + "worker-heap = 64m, member-heap = 64m }").withFallback(ConfigFactory.defaultReference()).resolve());
  }

  /** Members run {@link StandInMember} instead of NodeMain, with {@code env} added to their environment. */
  static ClusterLauncher.Launch standIn(Map<String, String> env) {
    ClusterLauncher.Launch real = ClusterLauncher.Launch.nodeMain();
    Map<String, String> all = new HashMap<>(real.environment());
    all.putAll(env);
    return new ClusterLauncher.Launch(StandInMember.class.getName(), real.classpath(), real.jvmFlags(), all);
  }

  /** Waits until {@code condition} holds; fails naming {@code what} if it does not within {@link #PATIENCE}. */
  static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + PATIENCE.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        fail("gave up waiting for: " + what);
      }
      Thread.sleep(50);
    }
  }
}

package io.vitfleet.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.ops.cluster.CheckDeterminismCommand;
import io.vitfleet.ops.cluster.ClusterLauncher;
import io.vitfleet.ops.cluster.ClusterRun;
import io.vitfleet.ops.cluster.ClusterSettings;
import io.vitfleet.ops.cluster.ClusterStatus;
import io.vitfleet.ops.cluster.ShardExport;
import io.vitfleet.ops.train.Checkpoint;
import io.vitfleet.ops.train.JobConfig;
import io.vitfleet.ops.train.LocalTrainer;
import io.vitfleet.ops.train.ProgressReporter;
import java.io.PrintStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kill -9 of a param-store shard at random instants of a training run (architecture.md, "Durability and recovery"):
 * the launcher restarts it, it reopens its Chronicle Map (recovering it), and training continues from the committed
 * step. The committed step the coordinator reports never goes back, and the final parameters are bit-identical to
 * one process's: a committed step torn or lost on any shard would change them (or stop the run).
 */
class ShardKillChaosIT {
  /** Kills per run: the 20 unless -Dvitfleet.chaos.shard-kills says otherwise. */
  private static final int KILLS = Integer.getInteger("vitfleet.chaos.shard-kills", 20);
  private static final long STEPS = 400;

  @TempDir
  Path dir;

  @Test
  void trainingContinuesFromTheCommittedStepThroughShardKillsAndEndsBitIdenticalToOneProcess() throws Exception {
    JobConfig job = CheckDeterminismCommand.job(Map.of(), STEPS);
    String reference;
    try (LocalTrainer t = new LocalTrainer(job, null,
        new ProgressReporter(new PrintStream(OutputStream.nullOutputStream()), false, 0, STEPS))) {
      reference = t.run(STEPS).paramsHash();
    }
    ClusterSettings settings = ClusterSettings.local(2, 2, 1);
    long seed = Long.getLong("vitfleet.chaos.seed", System.nanoTime());
    Random random = new Random(seed);
    System.out.println("shard-kill chaos: " + KILLS + " kills, seed " + seed + ", in " + dir);
    try (ClusterRun run = ClusterRun.start(job, settings, dir.resolve("run"), System.out::println)) {
      ClusterLauncher l = run.launcher();
      long highest = -1;
      for (int k = 0; k < KILLS; k++) {
        // Training has moved on since the last restart: at least one step committed with every shard back.
        long before = highest;
        ClusterStatus s = l.awaitStatus(st -> st.isFinished() || st.step() > before
            && ClusterStatus.RUNNING.equals(st.state()), Duration.ofMinutes(2));
        assertTrue(!s.isFinished(), "the run ended after " + k + " kills; raise STEPS");
        highest = Math.max(highest, s.step());
        Thread.sleep(random.nextInt(250));
        String victim = "shard-" + random.nextInt(settings.shards());
        long pid = l.pid(victim);
        Optional<ClusterStatus> at = l.status();
        l.kill(victim);
        System.out.println("kill " + (k + 1) + ": " + victim + " (pid " + pid + ") at committed step "
            + at.map(ClusterStatus::step).orElse(-1L));
        highest = Math.max(highest, watchMonotonic(l, highest, Duration.ofMillis(300)));
      }
      ClusterStatus done = run.awaitDone(Duration.ofMinutes(5));
      // A shard that comes back with a prepared step was killed between its vote and its commit.
      long duringCommit = 0;
      for (int i = 0; i < settings.shards(); i++) {
        duringCommit += java.nio.file.Files.readAllLines(run.run().log("shard-" + i)).stream()
            .filter(line -> line.contains(" prepared")).count();
      }
      System.out.println("kills that landed between a shard's prepared vote and its commit: " + duringCommit);
      assertEquals(STEPS, done.step());
      ShardExport.Committed c = run.stopAndRead();
      assertEquals(STEPS, c.step(), "every shard ends at the last step");
      assertEquals(reference, Checkpoint.hash(c.params()),
          "the parameters after " + KILLS + " shard kills differ from one process's");
      System.out.println("aborted steps: " + done.abortedSteps());
    }
  }

  /** Polls the committed step for {@code period}; it may only grow. Returns the highest seen. */
  private static long watchMonotonic(ClusterLauncher l, long highest, Duration period) throws InterruptedException {
    long end = System.nanoTime() + period.toNanos();
    long h = highest;
    while (System.nanoTime() - end < 0) {
      Optional<ClusterStatus> s = l.status();
      if (s.isPresent()) {
        assertTrue(s.get().step() >= h, "the committed step went back from " + h + " to " + s.get().step());
        h = Math.max(h, s.get().step());
      }
      Thread.sleep(20);
    }
    return h;
  }
}

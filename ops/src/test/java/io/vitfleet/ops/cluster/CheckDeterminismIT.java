package io.vitfleet.ops.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.ops.train.JobConfig;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `vitfleet check determinism` as CI runs it: the same job as one process and as three real clusters (separate JVMs,
 * Pekko cluster, Aeron IPC, Chronicle Map shards) ends with bit-identical parameters — including the run in which a
 * worker is killed with kill -9 mid-step and a new one joins.
 */
class CheckDeterminismIT {
  @TempDir
  Path dir;

  @Test
  void oneProcessAndEveryClusterPlanEndWithTheSameParametersEvenWhenAWorkerIsKilledAndAnotherJoins() {
    // The kill lands in the first steps; the newcomer starts once the survivor runs alone and needs several seconds
    // (a JVM, TensorFlow, joining the cluster) before the next plan can use it: 400 steps of this small job (~30 ms
    // each on two cores) leave it that time.
    JobConfig job = CheckDeterminismCommand.job(Map.of(), 400);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    CheckDeterminismCommand.Outcome o = CheckDeterminismCommand.run(job, dir, 42L, Duration.ofMinutes(5),
        new PrintStream(log, true, StandardCharsets.UTF_8));
    String report = log.toString(StandardCharsets.UTF_8);
    System.out.println(report);
    assertEquals(4, o.hashes().size(), report);
    assertTrue(o.identical(), "hashes differ: " + o.hashes() + "\n" + report);
    assertTrue(((Number) o.killRun().get("aborted_steps")).longValue() >= 1,
        "the kill aborted no step: " + o.killRun());
    assertEquals(Boolean.TRUE, o.killRun().get("newcomer_used"), "the joining worker was never planned in: "
        + o.killRun());
    @SuppressWarnings("unchecked")
    List<String> plans = (List<String>) o.killRun().get("plans");
    assertTrue(plans.stream().anyMatch(p -> p.contains("P=1")), "the survivor never ran alone: " + plans);
  }
}

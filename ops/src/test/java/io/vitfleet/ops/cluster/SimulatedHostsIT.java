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
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * `vitfleet up --hosts 2` for real: a P=2 pipeline whose two stages run on two simulated hosts of this machine, so
 * activations, activation gradients and half the parameter traffic cross Aeron UDP on loopback, ends with the
 * parameters `train` computes in one process — and the members' metrics prove UDP carried the traffic.
 */
class SimulatedHostsIT {
  private static final Duration TIMEOUT = Duration.ofMinutes(2);
  /** Members report their data plane every 2 s; after the last step the next report must show up. */
  private static final Duration METRICS_WAIT = Duration.ofSeconds(20);

  @TempDir
  Path dir;

  @Test
  void aPipelineSplitOverTwoSimulatedHostsTrainsTheSameBitsAsOneProcessWithItsStagesLinkedOverUdp()
      throws Exception {
    JobConfig job = CheckDeterminismCommand.job(Map.of(), 6);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    String expected = CheckDeterminismCommand.trainHash(job, new PrintStream(log, true, StandardCharsets.UTF_8));
    List<String> events = new CopyOnWriteArrayList<>();
    ClusterSettings twoHosts = ClusterSettings.local(2, 2, 1).withSimulatedHosts(2);

    String hash;
    ClusterStatus metrics;
    try (ClusterRun run = ClusterRun.start(job, twoHosts, dir.resolve("p2d1-two-hosts"), events::add)) {
      ClusterLauncher l = run.launcher();
      assertEquals(twoHosts.hostIdentity(0), l.host("worker-1"));
      assertEquals(twoHosts.hostIdentity(1), l.host("worker-2"));
      ClusterStatus done = run.awaitDone(TIMEOUT);
      CheckDeterminismCommand.requirePlan(done, 2, 1, run.run().root());
      assertEquals(new ClusterStatus.Slot(0, 1), done.plan().workers().get("worker-2"),
          "stage 1 runs on the second host");
      // A report may predate a link (worker-2 has received activations but not yet sent a gradient): wait until both
      // stages report their link to the other, whatever its transport, and then check the transport.
      metrics = l.awaitStatus(s -> framesOverUdp(s, "worker-2") > 0 && framesOverUdp(s, "worker-1") > 0
          && hasLink(s, "worker-1", "worker-2") && hasLink(s, "worker-2", "worker-1"), METRICS_WAIT);
      hash = run.stopAndHash();
    }

    assertEquals(expected, hash, "the two-host cluster's parameters differ from train's; events " + events);
    ClusterStatus.DataPlaneView stage0 = metrics.dataPlanes().get("worker-1");
    ClusterStatus.DataPlaneView stage1 = metrics.dataPlanes().get("worker-2");
    assertEquals(twoHosts.hostIdentity(0), stage0.host());
    assertEquals(twoHosts.hostIdentity(1), stage1.host());
    // Activations go stage 0 -> 1 and their gradients back, between hosts: UDP both ways.
    assertEquals("udp", stage0.links().get("worker-2"), "stage 0's links: " + stage0.links());
    assertEquals("udp", stage1.links().get("worker-1"), "stage 1's links: " + stage1.links());
    // The feeder shares host 0 with stage 0: its images arrive over IPC, its labels for stage 1 over UDP.
    assertEquals("ipc", metrics.dataPlanes().get("feeder").links().get("worker-1"));
    assertEquals("udp", metrics.dataPlanes().get("feeder").links().get("worker-2"));
    assertTrue(stage0.framesReceived("ipc") > 0, "stage 0 received nothing over IPC: " + stage0);
    assertEquals(0, metrics.drops(), "frames were dropped: " + metrics.dataPlanes());
  }

  private static boolean hasLink(ClusterStatus s, String member, String peer) {
    ClusterStatus.DataPlaneView d = s.dataPlanes().get(member);
    return d != null && d.links().containsKey(peer);
  }

  private static long framesOverUdp(ClusterStatus s, String member) {
    ClusterStatus.DataPlaneView d = s.dataPlanes().get(member);
    return d == null ? 0 : d.framesReceived("udp");
  }
}

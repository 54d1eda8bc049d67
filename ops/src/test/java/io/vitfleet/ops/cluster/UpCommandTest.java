package io.vitfleet.ops.cluster;

import static io.vitfleet.ops.CliRun.run;
import static io.vitfleet.ops.CliRun.vitfleet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.vitfleet.ops.CliRun;
import io.vitfleet.ops.JsonOutput;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UpCommandTest {

  private static Set<Long> children() {
    return ProcessHandle.current().children().map(ProcessHandle::pid).collect(Collectors.toSet());
  }

  /** Runs {@code vitfleet up} and checks it stopped with exit 2 and {@code expected}, having started nothing. */
  private static void assertRefusedBeforeStarting(Path runDir, String expected, String... args) {
    Set<Long> before = children();
    CliRun r = vitfleet(args);
    assertEquals(2, r.code(), r.err());
    String err = r.err().trim();
    assertTrue(err.startsWith("vitfleet: error: ") && !err.contains("\n"), "one line: " + err);
    assertTrue(err.contains(expected), "expected '" + expected + "' in: " + err);
    assertFalse(Files.exists(runDir), "no run folder is made for a refused job");
    assertEquals(before, children(), "no process is started for a refused job");
  }

  @Test
  void shouldRefuseMoreStagesThanTheModelHasBlocksBeforeStartingAnything(@TempDir Path tmp) {
    Path dir = tmp.resolve("run");
    assertRefusedBeforeStarting(dir, "9 stages for a model of 4 blocks: at most 4 stages",
        "up", "--set", "model.depth=4", "--stages", "9", "--dir", dir.toString());
  }

  @Test
  void shouldRefuseMoreReplicasThanTheJobHasGroupsBeforeStartingAnything(@TempDir Path tmp) {
    Path dir = tmp.resolve("run");
    assertRefusedBeforeStarting(dir, "3 replicas but the job has 2 groups",
        "up", "--set", "model.depth=4", "--workers", "3", "--replicas", "3", "--dir", dir.toString());
  }

  @Test
  void shouldRefuseAModelThatDoesNotFitTheWorkersMemoryBeforeStartingAnything(@TempDir Path tmp) {
    Path dir = tmp.resolve("run");
    assertRefusedBeforeStarting(dir, "give the workers more memory",
        "up", "--set", "model.variant=\"L/14\"", "--worker-heap", "256m", "--dir", dir.toString());
  }

  @Test
  void shouldRefuseAScheduleLongerThanTheJobBeforeStartingAnything(@TempDir Path tmp) {
    Path dir = tmp.resolve("run");
    assertRefusedBeforeStarting(dir, "bad optimizer setting: schedule warmup must be in [0, total=3], got 100",
        "up", "--steps", "3", "--dir", dir.toString());
  }

  @Test
  void shouldRefuseAMissingDataSetWithTheMessageOfTrain(@TempDir Path tmp) {
    Path dir = tmp.resolve("run");
    assertRefusedBeforeStarting(dir, "apt-get install -y dataset-fashion-mnist",
        "up", "--set", "data.dir=\"" + tmp.resolve("no-data") + "\"", "--dir", dir.toString());
  }

  @Test
  void shouldSayThePortIsInUseAndHowToChooseAnother(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
      int port = taken.getLocalPort();
      assertRefusedBeforeStarting(dir, "port " + port + " is in use (by another vitfleet up?): pass --port or stop it",
          "up", "--set", "model.depth=4", "--port", Integer.toString(port), "--dir", dir.toString());
    }
  }

  @Test
  void shouldSayWhichUdpPortIsInUseAndHowToChooseOthersBeforeStartingAnything(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("run");
    try (DatagramSocket taken = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
      int port = taken.getLocalPort();
      // Two shards, the feeder and two workers take the range's first five ports; the third is taken.
      String range = (port - 2) + "-" + (port + 10);
      assertRefusedBeforeStarting(dir, "UDP port " + port + " on 127.0.0.1 is in use (another vitfleet up, or "
          + "another program): stop what holds it, or give the data plane other ports with --udp-ports FIRST-LAST "
          + "(vitfleet.cluster.udp.ports, now " + range + ")",
          "up", "--set", "model.depth=4", "--hosts", "2", "--udp-ports", range, "--port", "0", "--dir",
          dir.toString());
    }
  }

  @Test
  void shouldRefuseAUdpRangeTooSmallForTheMembersAndNoHostsAtAll(@TempDir Path tmp) {
    Path dir = tmp.resolve("run");
    assertRefusedBeforeStarting(dir, "vitfleet.cluster.udp.ports 21000-21001 has 2 ports for 5 members",
        "up", "--set", "model.depth=4", "--hosts", "2", "--udp-ports", "21000-21001", "--dir", dir.toString());
    assertRefusedBeforeStarting(dir, "--hosts (vitfleet.cluster.simulated-hosts) must be >= 1, got 0",
        "up", "--set", "model.depth=4", "--hosts", "0", "--dir", dir.toString());
    assertRefusedBeforeStarting(dir, "vitfleet.cluster.udp.ports must be FIRST-LAST",
        "up", "--set", "model.depth=4", "--hosts", "2", "--udp-ports", "many", "--dir", dir.toString());
  }

  @Test
  void shouldRefuseAStepTimeoutThatIsNotADuration(@TempDir Path tmp) {
    Path dir = tmp.resolve("run");
    assertRefusedBeforeStarting(dir, "step-timeout", "up", "--step-timeout", "soon", "--dir", dir.toString());
  }

  @Test
  void shouldFollowAJobToItsLastStepThenStopEveryMember(@TempDir Path tmp) throws Exception {
    Path dir = tmp.resolve("runs/job");
    Path json = tmp.resolve("up.json");
    Set<Long> before = children();
    CliRun r = run(new UpCommand(() -> LauncherFixtures.standIn(Map.of("STANDIN_STATUS", "done"))),
        "--set", "model.depth=2", "--steps", "3", "--set", "optimizer.schedule.warmup=1",
        "--set", "optimizer.schedule.cooldown=1", "--shards", "1", "--workers", "1", "--port", "0",
        "--worker-heap", "512m", "--dir", dir.toString(), "--json", json.toString());
    assertEquals(0, r.code(), r.out() + r.err());
    List<String> lines = r.out().lines().toList();
    assertTrue(lines.contains("expected plan: P=1 x D=1, blocks [0,2), worker-1->(0,0)"), r.out());
    assertTrue(lines.contains("cluster done, plan v1: P=1 stage x D=1 replica"), r.out());
    assertTrue(lines.contains("worker-1 joined"), r.out());
    assertTrue(lines.stream().anyMatch(l -> l.startsWith("step 3/3: loss 1.2500, 100 images/s, wall ")), r.out());
    assertTrue(lines.contains("run folder " + dir.toAbsolutePath()), r.out());
    assertEquals(before, children(), "every member is stopped");
    JsonNode j = JsonOutput.mapper().readTree(json.toFile());
    assertEquals("done", j.get("state").asText());
    assertEquals(3, j.get("step").asInt());
    assertEquals("job", Files.readString(tmp.resolve("runs/LATEST")).trim());
    assertTrue(Files.readString(dir.resolve("job.conf")).contains("steps"), "the job is written for the members");
  }

  @Test
  void shouldExitWithTheCoordinatorsMessageWhenTheJobFails(@TempDir Path tmp) {
    Path dir = tmp.resolve("run");
    Set<Long> before = children();
    CliRun r = run(new UpCommand(() -> LauncherFixtures.standIn(Map.of("STANDIN_STATUS", "failed"))),
        "--set", "model.depth=2", "--shards", "1", "--workers", "1", "--port", "0", "--worker-heap", "512m",
        "--dir", dir.toString());
    assertEquals(1, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("the job failed: shard-0 lost its store; logs in " + dir.toAbsolutePath()
        .resolve("logs")), r.err());
    assertEquals(before, children(), "every member is stopped");
  }

  @Test
  void shouldFailWithTheShardsExitWhenItsStoreRefusesToOpen(@TempDir Path tmp) {
    Path dir = tmp.resolve("run");
    CliRun r = run(new UpCommand(() -> LauncherFixtures.standIn(Map.of("STANDIN_EXIT_SHARD", "4"))),
        "--set", "model.depth=2", "--shards", "1", "--workers", "1", "--port", "0", "--worker-heap", "512m",
        "--dir", dir.toString());
    assertEquals(1, r.code(), r.out() + r.err());
    assertTrue(r.err().contains("shard-0 exited (code 4: the shard store refuses to open): a restart would fail "
        + "the same way"), r.err());
  }
}

package io.vitfleet.ops.cluster;

import static io.vitfleet.ops.CliRun.vitfleet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import io.vitfleet.ops.CliRun;
import io.vitfleet.ops.JsonOutput;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StatusCommandTest {

  private static RunDirectory runWithSample(Path runs) throws Exception {
    RunDirectory run = RunDirectory.create(runs.resolve("20261129-100000"));
    run.writeClusterConf("vitfleet.cluster {}");
    Files.writeString(run.statusFile(), ClusterStatusTest.SAMPLE);
    return run;
  }

  @Test
  void shouldPrintMembersPlanProgressStepTimesAndTheAgeOfTheStatus(@TempDir Path tmp) throws Exception {
    RunDirectory run = runWithSample(tmp);
    String text = StatusCommand.render(run, ClusterStatus.parse(ClusterStatusTest.SAMPLE),
        Instant.parse("2026-11-29T10:00:02Z"));
    assertEquals("run " + run + " (job 3f2a9c01)\n"
        + "state running, updated 2 s ago\n"
        + "step 12/100  loss 1.2300  457 images/s  aborted steps 1  drops 0\n"
        + "plan v3: P=2 stages x D=1 replica\n"
        + "  stage 0: blocks [0, 2)\n"
        + "  stage 1: blocks [2, 4)\n"
        + "members (6):\n"
        + "  coordinator  coordinator\n"
        + "  shard-0      shard\n"
        + "  feeder       feeder\n"
        + "  worker-1     worker       replica 0 stage 0  step 0.120 s\n"
        + "  worker-2     worker       replica 0 stage 1  step 0.130 s\n"
        + "  worker-3     worker       not in the plan (spare)\n", text);
  }

  @Test
  void shouldShowEachMembersHostAndWhichTransportItsLinksUse(@TempDir Path tmp) throws Exception {
    RunDirectory run = runWithSample(tmp);
    String text = StatusCommand.render(run, ClusterStatus.parse(ClusterStatusTest.WITH_DATA_PLANE),
        Instant.parse("2026-11-29T10:00:02Z"));
    assertTrue(text.endsWith("  worker-3     worker       not in the plan (spare)\n"
        + "data plane (host; frames received by transport; links it sends on):\n"
        + "  shard-0   vm/sim-0  received ipc 40, udp 12  links worker-1 ipc, worker-2 udp\n"
        + "  worker-2  vm/sim-1  received ipc 0, udp 310  links shard-0 udp, worker-1 udp  drops 3\n"), text);
  }

  @Test
  void shouldStillShowThePlannedWorkersOfAStoppedCluster(@TempDir Path tmp) throws Exception {
    RunDirectory run = runWithSample(tmp);
    String stopped = ClusterStatusTest.SAMPLE.replaceAll("\"members\": \\[[^]]*]", "\"members\": []");
    String text = StatusCommand.render(run, ClusterStatus.parse(stopped), Instant.parse("2026-11-29T10:00:02Z"));
    assertTrue(text.endsWith("members (0):\n"
        + "  worker-1  (left)       replica 0 stage 0  step 0.120 s\n"
        + "  worker-2  (left)       replica 0 stage 1  step 0.130 s\n"), text);
  }

  @Test
  void shouldSayWhenAStatusIsOldOrOfUnknownAge(@TempDir Path tmp) throws Exception {
    RunDirectory run = runWithSample(tmp);
    assertTrue(StatusCommand.render(run, ClusterStatus.parse(ClusterStatusTest.SAMPLE),
        Instant.parse("2026-11-29T10:05:00Z")).contains("updated 5 min ago"));
    assertTrue(StatusCommand.render(run, ClusterStatus.parse("{\"state\": \"waiting\"}"), Instant.now())
        .contains("state waiting, updated at an unknown time\n"));
  }

  @Test
  void shouldFindTheNewestRunOfARunsFolder(@TempDir Path tmp) throws Exception {
    RunDirectory run = runWithSample(tmp);
    CliRun r = vitfleet("status", "--dir", tmp.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().startsWith("run " + run + " (job 3f2a9c01)\n"), r.out());
    assertTrue(r.out().contains("  worker-2     worker       replica 0 stage 1  step 0.130 s\n"), r.out());
  }

  @Test
  void shouldPrintTheStatusAsJsonWithItsRunFolderAndAge(@TempDir Path tmp) throws Exception {
    RunDirectory run = runWithSample(tmp);
    CliRun r = vitfleet("status", "--dir", run.root().toString(), "--json");
    assertEquals(0, r.code(), r.err());
    JsonNode j = JsonOutput.mapper().readTree(r.out());
    assertEquals(12, j.get("step").asInt());
    assertEquals(run.toString(), j.get("run_dir").asText());
    assertTrue(j.get("age_seconds").isNumber(), r.out());
  }

  @Test
  void shouldSayClearlyThatNoRunWasFound(@TempDir Path tmp) {
    CliRun r = vitfleet("status", "--dir", tmp.resolve("nothing").toString());
    assertEquals(2, r.code());
    assertTrue(r.err().startsWith("vitfleet: error: no cluster run found in "), r.err());
  }

  @Test
  void shouldSayWhereToLookWhenTheCoordinatorHasNotWrittenAStatusYet(@TempDir Path tmp) {
    RunDirectory run = RunDirectory.create(tmp.resolve("run"));
    run.writeClusterConf("vitfleet.cluster {}");
    CliRun r = vitfleet("status", "--dir", run.root().toString());
    assertEquals(1, r.code());
    assertTrue(r.out().contains("no status yet") && r.out().contains(run.log("coordinator").toString()), r.out());
  }
}

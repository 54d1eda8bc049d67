package io.vitfleet.ops.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClusterStatusTest {
  /** A status as the coordinator writes it (docs/cluster.md and the launcher contract). */
  static final String SAMPLE = """
      {"job_id": "3f2a9c01", "state": "running", "message": "", "step": 12, "total_steps": 100, "loss": 1.23,
       "images_per_second": 456.7,
       "plan": {"version": 3, "stages": 2, "replicas": 1, "layers": [[0, 2], [2, 4]],
                "workers": {"worker-1": [0, 0], "worker-2": [0, 1]}},
       "members": [{"id": "coordinator", "role": "coordinator"}, {"id": "shard-0", "role": "shard"},
                   {"id": "feeder", "role": "feeder"}, {"id": "worker-1", "role": "worker"},
                   {"id": "worker-2", "role": "worker"}, {"id": "worker-3", "role": "worker"}],
       "worker_step_seconds": {"worker-1": 0.12, "worker-2": 0.13},
       "aborted_steps": 1, "drops": 0, "updated": "2026-11-29T10:00:00Z", "future_field": 7}
      """;

  @Test
  void shouldReadEveryFieldTheCoordinatorWrites() {
    ClusterStatus s = ClusterStatus.parse(SAMPLE);
    assertEquals("3f2a9c01", s.jobId());
    assertEquals(ClusterStatus.RUNNING, s.state());
    assertEquals(12, s.step());
    assertEquals(100, s.totalSteps());
    assertEquals(1.23, s.loss());
    assertEquals(456.7, s.imagesPerSecond());
    assertEquals(3, s.plan().version());
    assertEquals(2, s.plan().stages());
    assertEquals(1, s.plan().replicas());
    assertEquals(List.of(new ClusterStatus.Blocks(0, 2), new ClusterStatus.Blocks(2, 4)), s.plan().layers());
    assertEquals(Map.of("worker-1", new ClusterStatus.Slot(0, 0), "worker-2", new ClusterStatus.Slot(0, 1)),
        s.plan().workers());
    assertEquals(6, s.members().size());
    assertEquals(List.of("worker-1", "worker-2", "worker-3"),
        s.members("worker").stream().map(ClusterStatus.Member::id).toList());
    assertEquals(0.13, s.workerStepSeconds().get("worker-2"));
    assertEquals(1, s.abortedSteps());
    assertEquals(0, s.drops());
    assertEquals(Instant.parse("2026-11-29T10:00:00Z"), s.updated());
    assertEquals(Duration.ofSeconds(2), s.age(Instant.parse("2026-11-29T10:00:02Z")).orElseThrow());
    assertEquals(7, s.json().get("future_field").asInt());
    assertFalse(s.isFinished());
  }

  /** {@link #SAMPLE} with the data plane of two members on two simulated hosts. */
  static final String WITH_DATA_PLANE = SAMPLE.replace("\"drops\": 0,", """
      "drops": 0, "data_plane": {
        "shard-0": {"host": "vm/sim-0", "frames_received": {"ipc": 40, "udp": 12},
                    "links": {"worker-1": "ipc", "worker-2": "udp"}, "drops": 0},
        "worker-2": {"host": "vm/sim-1", "frames_received": {"ipc": 0, "udp": 310},
                     "links": {"shard-0": "udp", "worker-1": "udp"}, "drops": 3}},""");

  @Test
  void shouldReadEachMembersHostFramesByTransportAndLinks() {
    ClusterStatus s = ClusterStatus.parse(WITH_DATA_PLANE);
    assertEquals(List.of("shard-0", "worker-2"), List.copyOf(s.dataPlanes().keySet()));
    ClusterStatus.DataPlaneView w2 = s.dataPlanes().get("worker-2");
    assertEquals("vm/sim-1", w2.host());
    assertEquals(310, w2.framesReceived("udp"));
    assertEquals(0, w2.framesReceived("ipc"));
    assertEquals(Map.of("shard-0", "udp", "worker-1", "udp"), w2.links());
    assertEquals(3, w2.drops());
    assertTrue(ClusterStatus.parse(SAMPLE).dataPlanes().isEmpty(), "a status without data_plane has none");
  }

  @Test
  void shouldReadAStatusWrittenBeforeTheFirstPlanAndStep() {
    ClusterStatus s = ClusterStatus.parse("{\"job_id\": \"ab\", \"state\": \"waiting\", \"message\": \"1 of 2 "
        + "workers\", \"step\": 0, \"total_steps\": 10, \"loss\": null, \"plan\": null, \"members\": []}");
    assertNull(s.plan());
    assertTrue(Double.isNaN(s.loss()));
    assertTrue(Double.isNaN(s.imagesPerSecond()));
    assertTrue(s.age(Instant.now()).isEmpty());
    assertEquals("1 of 2 workers", s.message());
  }

  @Test
  void shouldTellDoneAndFailedApartAsFinished() {
    assertTrue(ClusterStatus.parse("{\"state\": \"done\"}").isDone());
    assertTrue(ClusterStatus.parse("{\"state\": \"failed\", \"message\": \"x\"}").isFailed());
    assertTrue(ClusterStatus.parse("{\"state\": \"failed\"}").isFinished());
  }

  @Test
  void shouldFindNoStatusBeforeTheCoordinatorWritesOne(@TempDir Path tmp) {
    assertTrue(ClusterStatus.read(tmp.resolve("status.json")).isEmpty());
  }

  @Test
  void shouldNameTheFileOfAStatusThatIsNotJson(@TempDir Path tmp) throws Exception {
    Path f = Files.writeString(tmp.resolve("status.json"), "{\"state\": ");
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> ClusterStatus.read(f));
    assertTrue(e.getMessage().contains(f.toString()), e.getMessage());
  }
}

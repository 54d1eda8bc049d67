package io.vitfleet.coordinator.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import io.vitfleet.coordinator.plan.PlanConstraints;
import io.vitfleet.model.ViTConfig;
import io.vitfleet.model.ViTParameters;
import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.control.Abort;
import io.vitfleet.protocol.control.Begin;
import io.vitfleet.protocol.control.Commit;
import io.vitfleet.protocol.control.Committed;
import io.vitfleet.protocol.control.ControlMessage;
import io.vitfleet.protocol.control.DataPlaneMetrics;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.control.GlobalNorm;
import io.vitfleet.protocol.control.Hello;
import io.vitfleet.protocol.control.Install;
import io.vitfleet.protocol.control.JobSpec;
import io.vitfleet.protocol.control.NormPartial;
import io.vitfleet.protocol.control.Prepared;
import io.vitfleet.protocol.control.Ready;
import io.vitfleet.protocol.control.ShardState;
import io.vitfleet.protocol.control.StageDone;
import io.vitfleet.protocol.control.WorkerInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The step protocol as the coordinator runs it, against probes playing shards, feeder and workers. */
class CoordinatorActorTest {
  private static final ActorTestKit KIT = ActorTestKit.create(ConfigFactory.parseString(
      "pekko.actor.provider = cluster\npekko.remote.artery.canonical.port = 0\n"
          + "pekko.remote.artery.canonical.hostname = 127.0.0.1").withFallback(ConfigFactory.load()));
  private static final long JOB = 77L;
  private static final ViTConfig MODEL = ViTConfig.of("Ti/4", 28, 1, 10);
  private static final ParameterManifest MANIFEST = ViTParameters.manifest(MODEL);

  @TempDir
  Path dir;

  @AfterAll
  static void stop() {
    KIT.shutdownTestKit();
  }

  private final Map<String, TestProbe<ControlMessage>> probes = new LinkedHashMap<>();

  private TestProbe<ControlMessage> member(ActorRef<ControlMessage> coordinator, String id, String role,
                                           int stream) {
    TestProbe<ControlMessage> p = KIT.createTestProbe(id);
    probes.put(id, p);
    WorkerInfo w = role.equals(Hello.WORKER) ? new WorkerInfo(id, "localhost", 8L << 30, 0, "ipc") : null;
    ShardState s = role.equals(Hello.SHARD) ? new ShardState(Integer.parseInt(id.substring(6)), 0, -1) : null;
    coordinator.tell(new Hello(JOB, id, role, new Endpoint(id, "aeron:ipc", stream), p.ref(), w, s));
    return p;
  }

  /** The coordinator under test; stopped after each test, before its status folder is deleted. */
  private ActorRef<ControlMessage> coordinator;

  private ActorRef<ControlMessage> coordinator(int totalSteps) {
    JobSpec job = new JobSpec(JOB, "Ti/4", "fashion-mnist", 16, 4, 2, 0);
    CoordinatorSettings s = new CoordinatorSettings(MODEL, job, 2, new PlanConstraints(2, 1), 2, totalSteps,
        Duration.ofSeconds(30), dir.resolve("status.json"));
    coordinator = KIT.spawn(CoordinatorActor.create(s));
    return coordinator;
  }

  @AfterEach
  void stopCoordinator() {
    if (coordinator != null) {
      KIT.stop(coordinator);
    }
  }

  private Install installEverywhere() {
    Install install = null;
    for (TestProbe<ControlMessage> p : probes.values()) {
      install = p.expectMessageClass(Install.class);
    }
    return install;
  }

  private void allReady(ActorRef<ControlMessage> c, int version) {
    for (String id : probes.keySet()) {
      c.tell(new Ready(JOB, version, id));
    }
  }

  @Test
  void runsAStepThroughBeginNormCommitAndBeginsTheNext() {
    ActorRef<ControlMessage> c = coordinator(2);
    TestProbe<ControlMessage> s0 = member(c, "shard-0", Hello.SHARD, 2000);
    TestProbe<ControlMessage> s1 = member(c, "shard-1", Hello.SHARD, 2001);
    member(c, "feeder", Hello.FEEDER, 1000);
    member(c, "worker-1", Hello.WORKER, 3001);
    member(c, "worker-2", Hello.WORKER, 3002);
    Install install = installEverywhere();
    assertEquals(2, install.plan().pipelineDepth());
    assertEquals(1, install.plan().dataParallel());
    assertEquals(0, install.step());
    List<Integer> all = new ArrayList<>();
    install.stageTensors().forEach(all::addAll);
    assertEquals(MANIFEST.count(), all.size(), "every tensor belongs to exactly one stage");
    allReady(c, install.plan().version());
    for (TestProbe<ControlMessage> p : probes.values()) {
      assertEquals(new Begin(JOB, 0, install.plan().version()), p.expectMessageClass(Begin.class));
    }
    // Norms by tensor, split over the shards as the plan's chunkShards says; the global norm sums them in manifest
    // order whatever the split.
    double[] squares = new double[MANIFEST.count()];
    for (int i = 0; i < squares.length; i++) {
      squares[i] = 1.0 / (i + 3);
    }
    for (int shard = 0; shard < 2; shard++) {
      List<Integer> mine = new ArrayList<>();
      for (int i = 0; i < squares.length; i++) {
        if (install.plan().chunkShards().get(i) == shard) {
          mine.add(i);
        }
      }
      int[] t = mine.stream().mapToInt(Integer::intValue).toArray();
      double[] v = new double[t.length];
      for (int i = 0; i < t.length; i++) {
        v[i] = squares[t[i]];
      }
      c.tell(new NormPartial(JOB, 0, install.plan().version(), shard, t, v));
    }
    double sum = 0.0;
    for (double v : squares) {
      sum += v;
    }
    GlobalNorm g = s0.expectMessageClass(GlobalNorm.class);
    assertEquals(Double.doubleToLongBits(Math.sqrt(sum)), Double.doubleToLongBits(g.norm()));
    s1.expectMessageClass(GlobalNorm.class);
    c.tell(new StageDone(JOB, 0, install.plan().version(), "worker-2", 0, 1, 2.5, 4, 0.1));
    c.tell(new Prepared(JOB, 1, install.plan().version(), 0));
    c.tell(new Prepared(JOB, 1, install.plan().version(), 1));
    assertEquals(new Commit(JOB, 1, install.plan().version()), s0.expectMessageClass(Commit.class));
    s1.expectMessageClass(Commit.class);
    c.tell(new Committed(JOB, 1, install.plan().version(), 0));
    c.tell(new Committed(JOB, 1, install.plan().version(), 1));
    for (TestProbe<ControlMessage> p : probes.values()) {
      assertEquals(new Begin(JOB, 1, install.plan().version()), p.expectMessageClass(Begin.class));
    }
    // The status is written right after the next Begin goes out.
    s0.awaitAssert(Duration.ofSeconds(10), () -> {
      JsonNode status;
      try {
        status = new ObjectMapper().readTree(Files.readString(dir.resolve("status.json")));
      } catch (java.io.IOException e) {
        throw new AssertionError(e);
      }
      assertEquals(1, status.get("step").asLong());
      assertEquals(2.5, status.get("loss").asDouble());
      assertEquals("running", status.get("state").asText());
      assertEquals(2, status.get("plan").get("stages").asInt());
      return null;
    });
  }

  @Test
  void aWorkerLostMidStepAbortsTheStepAndTheSurvivorRunsItUnderANewPlan() {
    ActorRef<ControlMessage> c = coordinator(5);
    member(c, "shard-0", Hello.SHARD, 2000);
    member(c, "shard-1", Hello.SHARD, 2001);
    member(c, "feeder", Hello.FEEDER, 1000);
    member(c, "worker-1", Hello.WORKER, 3001);
    TestProbe<ControlMessage> w2 = member(c, "worker-2", Hello.WORKER, 3002);
    Install first = installEverywhere();
    allReady(c, first.plan().version());
    probes.values().forEach(p -> p.expectMessageClass(Begin.class));
    probes.remove("worker-2");
    w2.stop();
    for (TestProbe<ControlMessage> p : probes.values()) {
      Abort a = p.expectMessageClass(Abort.class);
      assertEquals(0, a.step());
      assertTrue(a.reason().contains("worker-2"), a.reason());
    }
    Install second = installEverywhere();
    assertTrue(second.plan().version() > first.plan().version());
    assertEquals(1, second.plan().pipelineDepth(), "one worker left: one stage holding every block");
    assertEquals("worker-1", second.plan().workers().get(0).workerId());
    assertEquals(0, second.step(), "the aborted step runs again");
    allReady(c, second.plan().version());
    for (TestProbe<ControlMessage> p : probes.values()) {
      assertEquals(new Begin(JOB, 0, second.plan().version()), p.expectMessageClass(Begin.class));
    }
  }

  @Test
  void aShardThatCommittedAheadMakesTheOtherCompleteItsPreparedStepBeforeAnyPlan() {
    ActorRef<ControlMessage> c = coordinator(5);
    TestProbe<ControlMessage> s0 = KIT.createTestProbe("s0");
    TestProbe<ControlMessage> s1 = KIT.createTestProbe("s1");
    c.tell(new Hello(JOB, "shard-0", Hello.SHARD, new Endpoint("shard-0", "aeron:ipc", 2000), s0.ref(), null,
        new ShardState(0, 4, -1)));
    c.tell(new Hello(JOB, "shard-1", Hello.SHARD, new Endpoint("shard-1", "aeron:ipc", 2001), s1.ref(), null,
        new ShardState(1, 3, 4)));
    probes.put("shard-0", s0);
    probes.put("shard-1", s1);
    member(c, "feeder", Hello.FEEDER, 1000);
    member(c, "worker-1", Hello.WORKER, 3001);
    member(c, "worker-2", Hello.WORKER, 3002);
    assertEquals(4, s1.expectMessageClass(Commit.class).step());
    s0.expectNoMessage(Duration.ofMillis(200));
    c.tell(new Committed(JOB, 4, 0, 1));
    Install install = installEverywhere();
    assertEquals(4, install.step(), "training continues from the step committed on every shard");
  }

  @Test
  void theStatusShowsEachMembersHostFramesByTransportAndLinksAsItsMetricsReportThem() {
    ActorRef<ControlMessage> c = coordinator(5);
    c.tell(new DataPlaneMetrics(JOB, "worker-2", 2, "{stale_plan=2}", "vm/sim-1", Map.of("ipc", 5L, "udp", 120L),
        Map.of("shard-1", "ipc", "worker-1", "udp")));
    c.tell(new DataPlaneMetrics(JOB + 1, "worker-9", 7, "{}", "elsewhere", Map.of(), Map.of()));
    // No step runs yet: the coordinator writes the metrics at once rather than with the next step.
    KIT.createTestProbe().awaitAssert(Duration.ofSeconds(10), () -> {
      JsonNode status;
      try {
        status = new ObjectMapper().readTree(Files.readString(dir.resolve("status.json")));
      } catch (java.io.IOException e) {
        throw new AssertionError(e);
      }
      JsonNode w2 = status.path("data_plane").path("worker-2");
      assertEquals("vm/sim-1", w2.path("host").asText());
      assertEquals(120, w2.path("frames_received").path("udp").asLong());
      assertEquals("udp", w2.path("links").path("worker-1").asText());
      assertEquals(2, status.get("drops").asLong(), "metrics of another job are ignored");
      assertTrue(status.path("data_plane").path("worker-9").isMissingNode());
      return null;
    });
  }
}

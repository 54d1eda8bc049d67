package io.vitfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.model.StageGraph;
import io.vitfleet.protocol.control.Abort;
import io.vitfleet.protocol.control.Begin;
import io.vitfleet.protocol.control.ControlMessage;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.control.Hello;
import io.vitfleet.protocol.control.Install;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.control.Ready;
import io.vitfleet.protocol.control.StageDone;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.frame.TensorDescriptor;
import io.vitfleet.protocol.link.DataPlane;
import io.vitfleet.protocol.link.EmbeddedMediaDriver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;
import org.agrona.CloseHelper;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.FishingOutcomes;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker actor with a real embedded media driver and real data planes: a test coordinator (a probe), a shard
 * that collects group sums and a feeder, all on Aeron IPC in this JVM.
 */
class WorkerActorTest {
  private static final long JOB = 91;
  private static final long STEP = 5;
  /** Generous bound for a reply that needs a stage graph built; the machine is shared. */
  private static final Duration REPLY = Duration.ofSeconds(60);
  /** Far beyond {@link #REPLY}: a step waiting for its inputs ends only if an abort cancels it. */
  private static final Duration RECEIVE_TIMEOUT = Duration.ofMinutes(10);
  private static final AtomicInteger STREAMS = new AtomicInteger(3100);

  @TempDir
  static Path tmp;
  private static EmbeddedMediaDriver driver;
  private static ActorTestKit testKit;
  private static StageGraph whole;
  private static ReferenceStep reference;

  private final Map<InMemoryFabric.GroupTensor, float[]> received = new ConcurrentHashMap<>();
  private final List<DataPlane> planes = new ArrayList<>();
  private TestProbe<ControlMessage> coordinator;
  private TensorMailbox mailbox;
  private DataPlane workerPlane;
  private DataPlane shardPlane;
  private DataPlane feederPlane;
  private ActorRef<ControlMessage> worker;

  @BeforeAll
  static void startDriverAndActorSystem() {
    driver = EmbeddedMediaDriver.launch(tmp.resolve("aeron"), EmbeddedMediaDriver.Settings.DEFAULTS,
        Throwable::printStackTrace);
    testKit = ActorTestKit.create();
    whole = ReferenceStep.wholeModel();
    reference = new ReferenceStep(whole, 23);
  }

  @AfterAll
  static void stopAll() {
    testKit.shutdownTestKit();
    whole.close();
    CloseHelper.quietClose(driver);
  }

  @BeforeEach
  void startMembers() {
    String dir = driver.directory();
    mailbox = new TensorMailbox();
    WorkerSettings settings = new WorkerSettings("worker-1", JOB, ReferenceStep.MODEL, ReferenceStep.GLOBAL_BATCH,
        ReferenceStep.MICROBATCH, ReferenceStep.GROUPS, ReferenceStep.THREADS, 1L << 30, "localhost", dir,
        STREAMS.incrementAndGet(), RECEIVE_TIMEOUT);
    workerPlane = plane(settings.connectDataPlane(mailbox));
    shardPlane = plane(DataPlane.connect(dir, DataPlane.ipcEndpoint("shard-0", STREAMS.incrementAndGet()), JOB,
        t -> received.put(new InMemoryFabric.GroupTensor(t.index(), t.tensorId()), t.floats())));
    feederPlane = plane(DataPlane.connect(dir, DataPlane.ipcEndpoint("feeder", STREAMS.incrementAndGet()), JOB,
        t -> { }));
    coordinator = testKit.createTestProbe(ControlMessage.class);
    testKit.spawn(WorkerActor.create(settings, coordinator.ref(), mailbox, workerPlane));
    worker = coordinator.expectMessageClass(Hello.class, REPLY).ref();
  }

  @AfterEach
  void stopMembers() {
    planes.forEach(CloseHelper::quietClose);
  }

  private DataPlane plane(DataPlane p) {
    planes.add(p);
    return p;
  }

  @Test
  void shouldIntroduceItselfWithItsDataEndpointAndWhatThePlannerNeeds() {
    Hello hello = coordinator.expectMessageClass(Hello.class, REPLY);
    assertEquals("worker-1", hello.memberId());
    assertEquals(Hello.WORKER, hello.role());
    assertEquals(workerPlane.self(), hello.endpoint());
    assertEquals(1L << 30, hello.worker().declaredMemoryBytes());
    assertEquals(worker, hello.ref());
  }

  @Test
  void shouldAnswerReadyAndStayIdleWhenThePlanDoesNotUseIt() {
    worker.tell(install(3, "worker-7"));
    assertEquals(new Ready(JOB, 3, "worker-1"), next(Ready.class));
  }

  @Test
  void shouldRunItsStageOfAStepAndSendTheOneProcessGroupSumsToTheShard() {
    Install install = install(4, "worker-1");
    worker.tell(install);
    assertEquals(new Ready(JOB, 4, "worker-1"), next(Ready.class));
    shardPlane.acceptPlan(4);
    feederPlane.acceptPlan(4);
    worker.tell(new Begin(JOB, STEP, 4));
    sendParametersAndMicrobatches(4);

    StageDone done = next(StageDone.class);
    assertEquals(STEP, done.step());
    assertEquals(4, done.planVersion());
    assertEquals(ReferenceStep.K, done.microbatches());
    assertEquals(reference.totalLoss, done.lossSum());
    int expected = ReferenceStep.GROUPS * ReferenceStep.FULL.count();
    awaitUntil(() -> received.size() == expected, "all " + expected + " group sums at the shard");
    for (int g = 0; g < ReferenceStep.GROUPS; g++) {
      for (int i = 0; i < ReferenceStep.FULL.count(); i++) {
        assertTrue(reference.isGroupSum(g, i, received.get(new InMemoryFabric.GroupTensor(g, i))),
            "group " + g + " tensor " + i + " differs from the one-process sum");
      }
    }
  }

  @Test
  void shouldDropAnAbortedStepAndPrepareTheNextPlan() {
    worker.tell(install(8, "worker-1"));
    next(Ready.class);
    // The step waits for inputs that never come until the abort frees the compute thread.
    worker.tell(new Begin(JOB, STEP, 8));
    worker.tell(new Abort(JOB, STEP, 8, "test abort"));
    worker.tell(install(9, "worker-1"));
    assertEquals(new Ready(JOB, 9, "worker-1"), next(Ready.class));

    shardPlane.acceptPlan(9);
    feederPlane.acceptPlan(9);
    worker.tell(new Begin(JOB, STEP, 9));
    sendParametersAndMicrobatches(9);
    StageDone done = next(StageDone.class);
    assertEquals(9, done.planVersion());
    assertEquals(reference.totalLoss, done.lossSum());
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** The next message of {@code type} to the coordinator, skipping heartbeats; any other message fails the test. */
  private <T extends ControlMessage> T next(Class<T> type) {
    List<ControlMessage> seen = coordinator.fishForMessage(REPLY, "a " + type.getSimpleName(), m ->
        type.isInstance(m) ? FishingOutcomes.complete()
            : m instanceof Hello ? FishingOutcomes.continueAndIgnore()
            : FishingOutcomes.fail("unexpected " + m));
    return type.cast(seen.get(seen.size() - 1));
  }

  /** A one-stage, one-replica plan run by {@code workerId}, every tensor owned by shard 0. */
  private Install install(int version, String workerId) {
    List<Integer> chunkShards = new ArrayList<>();
    List<Integer> all = new ArrayList<>();
    for (int i = 0; i < ReferenceStep.FULL.count(); i++) {
      chunkShards.add(0);
      all.add(i);
    }
    Plan plan = new Plan(JOB, version, 1, 1, List.of(new Plan.StageLayers(0, 0, ReferenceStep.MODEL.depth())),
        List.of(new Plan.WorkerAssignment(workerId, 0, 0)), chunkShards, ReferenceStep.MICROBATCH,
        List.of(new Plan.ReplicaGroups(0, List.of(0, 1))));
    List<Endpoint> endpoints = List.of(
        workerId.equals("worker-1") ? workerPlane.self() : new Endpoint(workerId, "aeron:ipc", 3999),
        shardPlane.self(), feederPlane.self());
    return new Install(JOB, STEP, plan, endpoints, List.of(all));
  }

  /** What shard 0 and the feeder send a one-stage worker for step {@link #STEP}. */
  private void sendParametersAndMicrobatches(int version) {
    Endpoint to = workerPlane.self();
    TensorDescriptor d = new TensorDescriptor().planVersion(version).step(STEP).stage(0);
    for (int i = 0; i < ReferenceStep.FULL.count(); i++) {
      d.kind(FrameKind.PARAMETERS).microbatchOrGroup(0).tensorId(i).shape(ReferenceStep.FULL.get(i).shape());
      shardPlane.send(to, d, ReferenceStep.slice(reference.params, i));
    }
    for (int k = 0; k < ReferenceStep.K; k++) {
      d.kind(FrameKind.IMAGES).microbatchOrGroup(k).tensorId(0).shape(ReferenceStep.MICROBATCH, 28, 28, 1);
      feederPlane.send(to, d, reference.images[k]);
      d.kind(FrameKind.LABELS).shape(ReferenceStep.MICROBATCH);
      feederPlane.send(to, d, reference.labels[k]);
    }
  }

  private static void awaitUntil(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + REPLY.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        throw new AssertionError("gave up waiting for " + what);
      }
      LockSupport.parkNanos(1_000_000);
    }
  }
}

package io.vitfleet.feeder.actor;

import static io.vitfleet.feeder.actor.FeederFixtures.JOB;
import static io.vitfleet.feeder.actor.FeederFixtures.assertMicrobatch;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.feeder.TrainingBatches;
import io.vitfleet.feeder.actor.FeederFixtures.ReceivingWorker;
import io.vitfleet.protocol.control.Begin;
import io.vitfleet.protocol.control.ControlMessage;
import io.vitfleet.protocol.control.Hello;
import io.vitfleet.protocol.control.Install;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.control.Ready;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.link.DataPlane;
import io.vitfleet.protocol.link.EmbeddedMediaDriver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.agrona.CloseHelper;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.receptionist.Receptionist;
import org.apache.pekko.actor.typed.receptionist.ServiceKey;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The feeder actor with a probe as its coordinator, a real embedded media driver, and two workers' data planes: one
 * standing for stage 0 and one for the last stage of every replica (P = 2, D = 2).
 */
class FeederActorTest {
  /** How long the probe waits for the feeder's next message: a bound on a hung actor, not a timing claim. */
  private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(20);
  private static final int PLAN = 7;

  @TempDir
  static Path tmp;
  private static EmbeddedMediaDriver driver;
  private static ActorTestKit testKit;
  private static final Queue<Throwable> ERRORS = new ConcurrentLinkedQueue<>();

  private final TrainingBatches reference = FeederFixtures.batches();
  private FeederSettings settings;
  private DataPlane feederPlane;
  private ReceivingWorker firstStage;
  private ReceivingWorker lastStage;
  private TestProbe<ControlMessage> coordinator;
  private ActorRef<FeederActor.Command> feeder;

  @BeforeAll
  static void start() {
    driver = EmbeddedMediaDriver.launch(tmp.resolve("aeron"), EmbeddedMediaDriver.Settings.DEFAULTS, ERRORS::add);
    testKit = ActorTestKit.create();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
    CloseHelper.close(driver);
    assertTrue(ERRORS.isEmpty(), () -> "media driver errors: " + ERRORS);
  }

  @BeforeEach
  void connect() {
    settings = new FeederSettings(FeederSettings.MEMBER_ID, JOB, FeederFixtures.nextStreamId(), driver.directory());
    feederPlane = settings.connectDataPlane();
    firstStage = new ReceivingWorker(driver.directory(), "stage-0");
    lastStage = new ReceivingWorker(driver.directory(), "stage-1");
    coordinator = testKit.createTestProbe(ControlMessage.class);
  }

  @AfterEach
  void close() {
    if (feeder != null) {
      testKit.stop(feeder);
    }
    CloseHelper.closeAll(feederPlane, firstStage, lastStage);
  }

  private Hello startFeeder(ServiceKey<ControlMessage> memberKey) {
    feeder = testKit.spawn(FeederActor.create(settings, FeederFixtures.batches(), coordinator.getRef(), feederPlane,
        memberKey));
    return coordinator.expectMessageClass(Hello.class, REPLY_TIMEOUT);
  }

  /** The next message of the feeder that is not a heartbeat. */
  private ControlMessage nextReply() {
    while (true) {
      ControlMessage m = coordinator.receiveMessage(REPLY_TIMEOUT);
      if (!(m instanceof Hello)) {
        return m;
      }
    }
  }

  /** Replica 0 owns groups 2 and 0, replica 1 groups 1 and 3; both replicas' stage s share worker s's endpoint. */
  private Install install(int version) {
    DataPlane[] stages = {firstStage.plane, lastStage.plane};
    return FeederFixtures.install(version, 2, List.of(List.of(2, 0), List.of(1, 3)),
        new DataPlane[][] {stages, stages});
  }

  @Test
  void shouldIntroduceItselfWithItsRoleItsDataEndpointAndTheReferenceItTakesControlMessagesAt() {
    Hello hello = startFeeder(null);

    assertEquals(JOB, hello.jobId());
    assertEquals("feeder", hello.memberId());
    assertEquals(Hello.FEEDER, hello.role());
    assertEquals(feederPlane.self(), hello.endpoint());
    assertNull(hello.worker());
    assertNull(hello.shard());
    hello.ref().tell(install(PLAN));
    assertEquals(new Ready(JOB, PLAN, "feeder"), nextReply());
  }

  @Test
  void shouldKeepSayingHelloEverySecond() {
    Hello first = startFeeder(null);

    assertEquals(first, coordinator.expectMessageClass(Hello.class, REPLY_TIMEOUT));
  }

  @Test
  void shouldRegisterItsControlReferenceWithTheReceptionistUnderTheMemberKey() {
    ServiceKey<ControlMessage> key = ServiceKey.create(ControlMessage.class, "feeder-test-members");
    Hello hello = startFeeder(key);
    TestProbe<Receptionist.Listing> listings = testKit.createTestProbe(Receptionist.Listing.class);

    testKit.system().receptionist().tell(Receptionist.subscribe(key, listings.getRef()));
    while (!listings.receiveMessage(REPLY_TIMEOUT).getServiceInstances(key).contains(hello.ref())) {
      // the first listing may predate the registration; the next one follows it
    }
  }

  @Test
  void shouldSendEveryMicrobatchOfABegunStepToTheWorkersOwningItsGroupWithTheTrainersBytes() throws Exception {
    Hello hello = startFeeder(null);
    firstStage.plane.acceptPlan(PLAN);
    lastStage.plane.acceptPlan(PLAN);
    hello.ref().tell(install(PLAN));
    assertEquals(new Ready(JOB, PLAN, "feeder"), nextReply());

    long step = 3;
    hello.ref().tell(new Begin(JOB, step, PLAN));

    int k = FeederFixtures.UNITS.microbatches();
    // Step 4 follows, read ahead: take both, check step 3.
    Map<Integer, DataPlane.Tensor> images = receiveSteps(firstStage, k, step, step + 1).get(step);
    Map<Integer, DataPlane.Tensor> labels = receiveSteps(lastStage, k, step, step + 1).get(step);
    for (int mb = 0; mb < k; mb++) {
      assertMicrobatch(images.get(mb), FrameKind.IMAGES, step, PLAN, mb, 0, reference);
      assertMicrobatch(labels.get(mb), FrameKind.LABELS, step, PLAN, mb, 1, reference);
    }
  }

  @Test
  void shouldStreamTheNextStepAheadOfItsBeginAndNotSendItAgainWhenItBegins() throws Exception {
    Hello hello = startFeeder(null);
    firstStage.plane.acceptPlan(PLAN);
    lastStage.plane.acceptPlan(PLAN);
    hello.ref().tell(install(PLAN));
    assertEquals(new Ready(JOB, PLAN, "feeder"), nextReply());
    int k = FeederFixtures.UNITS.microbatches();

    hello.ref().tell(new Begin(JOB, 3, PLAN));
    hello.ref().tell(new Begin(JOB, 4, PLAN));
    // Step 3, step 4 read ahead at Begin(3), step 5 read ahead at Begin(4): each exactly once.
    Map<Long, Map<Integer, DataPlane.Tensor>> images = receiveSteps(firstStage, k, 3, 5);
    Map<Long, Map<Integer, DataPlane.Tensor>> labels = receiveSteps(lastStage, k, 3, 5);
    for (long step = 3; step <= 5; step++) {
      for (int mb = 0; mb < k; mb++) {
        assertMicrobatch(images.get(step).get(mb), FrameKind.IMAGES, step, PLAN, mb, 0, reference);
        assertMicrobatch(labels.get(step).get(mb), FrameKind.LABELS, step, PLAN, mb, 1, reference);
      }
    }
    assertNull(firstStage.poll(300), "nothing beyond one step ahead");
    assertNull(lastStage.poll(0), "nothing beyond one step ahead");
  }

  @Test
  void shouldRefuseAPlanOfAnotherMicrobatchSizeAndAnswerTheNextFittingOne() {
    Hello hello = startFeeder(null);
    Plan fitting = install(PLAN + 1).plan();
    Plan otherSize = new Plan(JOB, PLAN, fitting.pipelineDepth(), fitting.dataParallel(), fitting.stages(),
        fitting.workers(), fitting.chunkShards(), 2 * fitting.microbatchSize(), fitting.replicaGroups());
    Install good = install(PLAN + 1);

    hello.ref().tell(new Install(JOB, 0, otherSize, good.endpoints(), good.stageTensors()));
    hello.ref().tell(good);

    assertEquals(new Ready(JOB, PLAN + 1, "feeder"), nextReply());
  }

  @Test
  void shouldIgnoreAnInstallOfAnotherJob() {
    Hello hello = startFeeder(null);
    Install ours = install(PLAN + 1);
    Plan p = install(PLAN).plan();
    Plan theirs = new Plan(JOB + 1, p.version(), p.pipelineDepth(), p.dataParallel(), p.stages(), p.workers(),
        p.chunkShards(), p.microbatchSize(), p.replicaGroups());

    hello.ref().tell(new Install(JOB + 1, 0, theirs, ours.endpoints(), ours.stageTensors()));
    hello.ref().tell(ours);

    assertEquals(new Ready(JOB, PLAN + 1, "feeder"), nextReply());
  }

  /**
   * Every microbatch of steps {@code first .. last} that {@code worker} receives, each once, by step and microbatch
   * index. The two replicas reach a shared test endpoint through two publications, so their frames interleave freely:
   * a read-ahead step of one replica may arrive before the current step of the other.
   */
  private static Map<Long, Map<Integer, DataPlane.Tensor>> receiveSteps(ReceivingWorker worker, int microbatches,
                                                                        long first, long last)
      throws InterruptedException {
    Map<Long, Map<Integer, DataPlane.Tensor>> bySteps = new HashMap<>();
    for (long i = 0; i < (last - first + 1) * microbatches; i++) {
      DataPlane.Tensor t = worker.next();
      assertTrue(t.step() >= first && t.step() <= last, () -> t.kind() + " of step " + t.step() + " arrived");
      DataPlane.Tensor earlier = bySteps.computeIfAbsent(t.step(), s -> new HashMap<>()).put(t.index(), t);
      assertNull(earlier, () -> "microbatch " + t.index() + " of step " + t.step() + " arrived twice");
    }
    return bySteps;
  }

}

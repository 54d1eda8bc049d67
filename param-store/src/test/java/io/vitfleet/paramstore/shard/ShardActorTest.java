package io.vitfleet.paramstore.shard;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.paramstore.Adafactor;
import io.vitfleet.paramstore.FlatFloats;
import io.vitfleet.paramstore.OptimizerConfig;
import io.vitfleet.paramstore.OptimizerState;
import io.vitfleet.paramstore.Schedule;
import io.vitfleet.paramstore.store.ShardStore;
import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import io.vitfleet.protocol.control.Abort;
import io.vitfleet.protocol.control.Begin;
import io.vitfleet.protocol.control.Commit;
import io.vitfleet.protocol.control.Committed;
import io.vitfleet.protocol.control.ControlMessage;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.control.GlobalNorm;
import io.vitfleet.protocol.control.Hello;
import io.vitfleet.protocol.control.Install;
import io.vitfleet.protocol.control.NormPartial;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.control.Prepared;
import io.vitfleet.protocol.control.Ready;
import io.vitfleet.protocol.control.ShardState;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.frame.TensorDescriptor;
import io.vitfleet.protocol.link.DataPlane;
import io.vitfleet.protocol.link.EmbeddedMediaDriver;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Queue;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.agrona.CloseHelper;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * System tests of one shard: a real embedded media driver, the shard's own data plane, and two fake workers (one per
 * pipeline stage) on data planes of their own that receive its parameters and send it group sums; the test plays
 * the coordinator through a TestProbe. The shard owns tensors 0 and 2 of a four-tensor model; the other shard's
 * squared norms come from the one-process reference, as the coordinator would get them from that shard.
 */
class ShardActorTest {
  private static final long JOB = 0x5a4d_0001L;
  private static final int SHARD = 0;
  private static final int VERSION = 3;
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final ParameterManifest MODEL = new ParameterManifest(List.of(
      new ParameterSpec("embedding/kernel", new int[] {24, 16}),
      new ParameterSpec("embedding/bias", new int[] {16}),
      new ParameterSpec("head/kernel", new int[] {16, 10}),
      new ParameterSpec("head/bias", new int[] {10})));
  /** Tensors 0 and 2 on shard 0, 1 and 3 on shard 1. */
  private static final List<Integer> CHUNK_SHARDS = List.of(0, 1, 0, 1);
  private static final int[] OWNED = {0, 2};
  /** Stage 0 holds the embedding, stage 1 the head. */
  private static final List<List<Integer>> STAGE_TENSORS = List.of(List.of(0, 1), List.of(2, 3));
  private static final int GROUPS = 3;
  /** A constant schedule, so the very first update moves the parameters; small tensors factored from 8 on. */
  private static final OptimizerConfig OPTIMIZER = OptimizerConfig.builder(Schedule.constant(10, 0, 0))
      .minDimToFactor(8).build();
  private static final AtomicInteger STREAMS = new AtomicInteger(2000);

  @TempDir
  static Path aeronParent;
  private static EmbeddedMediaDriver driver;
  private static final Queue<Throwable> DRIVER_ERRORS = new ConcurrentLinkedQueue<>();
  private static ActorTestKit testKit;

  @TempDir
  Path dir;
  private TestProbe<ControlMessage> coordinator;
  private FakeWorker worker1;
  private FakeWorker worker2;
  private RunningShard shard;

  @BeforeAll
  static void start() {
    driver = EmbeddedMediaDriver.launch(aeronParent.resolve("aeron"), EmbeddedMediaDriver.Settings.DEFAULTS,
        DRIVER_ERRORS::add);
    testKit = ActorTestKit.create();
  }

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
    CloseHelper.close(driver);
  }

  @AfterEach
  void stopShardAndWorkers() {
    if (shard != null) {
      shard.stop();
    }
    CloseHelper.closeAll(worker1, worker2);
    assertTrue(DRIVER_ERRORS.isEmpty(), () -> "media driver errors: " + DRIVER_ERRORS);
  }

  // ---- the one-process reference -----------------------------------------------------------------------------------

  private static float[] initialParams() {
    return random(MODEL.totalSize(), 11, 1);
  }

  /** Group g's gradient sum over the whole model, of widely varying magnitudes. */
  private static float[] groupSum(int g) {
    return random(MODEL.totalSize(), 100 + g, 3);
  }

  private static float[] random(long n, long seed, int decades) {
    Random r = new Random(seed);
    float[] v = new float[(int) n];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(decades + 1) - decades));
    }
    return v;
  }

  /** What LocalTrainer does with the same group sums: sum in group order, then one Adafactor step at count 0. */
  private record Reference(float[] total, double[] squaredNorms, double norm, float[] params, OptimizerState state) {
    static Reference stepZero() {
      float[] total = groupSum(0);
      for (int g = 1; g < GROUPS; g++) {
        float[] sum = groupSum(g);
        for (int i = 0; i < total.length; i++) {
          total[i] += sum[i];
        }
      }
      Adafactor adafactor = new Adafactor(OPTIMIZER, MODEL);
      double[] squared = adafactor.squaredNorms(FlatFloats.wrap(MODEL, total));
      float[] params = initialParams();
      OptimizerState state = adafactor.newState();
      double norm = adafactor.step(params, total, state, 0);
      return new Reference(total, squared, norm, params, state);
    }
  }

  // ---- the cluster around the shard --------------------------------------------------------------------------------

  /** A worker's data plane: receives parameters, sends group sums. */
  private static final class FakeWorker implements AutoCloseable {
    final String id;
    final DataPlane plane;
    final BlockingQueue<DataPlane.Tensor> received = new LinkedBlockingQueue<>();

    FakeWorker(String id) {
      this.id = id;
      this.plane = DataPlane.connect(driver.directory(), DataPlane.ipcEndpoint(id, STREAMS.incrementAndGet()), JOB,
          received::add);
    }

    DataPlane.Tensor take() throws InterruptedException {
      DataPlane.Tensor t = received.poll(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertNotNull(t, id + " received no tensor");
      return t;
    }

    void sendGroupSum(Endpoint shard, long step, int version, int stage, int group, int tensor) {
      TensorDescriptor d = new TensorDescriptor().kind(FrameKind.WEIGHT_GRAD_GROUP_SUM).planVersion(version)
          .step(step).microbatchOrGroup(group).stage(stage).tensorId(tensor).shape(MODEL.get(tensor).shape());
      plane.send(shard, d, groupSum(group), (int) MODEL.offset(tensor), (int) MODEL.get(tensor).size());
    }

    @Override
    public void close() {
      plane.close();
    }
  }

  /** The shard under test: its actor, data plane and the control reference its Hello carried. */
  private record RunningShard(ActorRef<ShardActor.Command> actor, DataPlane plane, ActorRef<ControlMessage> control,
                              Endpoint endpoint, ShardState firstState) {
    void stop() {
      testKit.stop(actor, WAIT);
      plane.close();
    }
  }

  private Path storeFile() {
    return dir.resolve("shard-0.cm");
  }

  private RunningShard startShard() {
    ShardSettings settings = new ShardSettings(SHARD, "shard-0", JOB, MODEL, OWNED, ShardActorTest::initialParams,
        OPTIMIZER, 2, storeFile(), 10);
    ShardInbox inbox = new ShardInbox();
    DataPlane plane = DataPlane.connect(driver.directory(),
        DataPlane.ipcEndpoint("shard-0", STREAMS.incrementAndGet()), JOB, inbox);
    ActorRef<ShardActor.Command> actor = testKit.spawn(ShardActor.create(settings, coordinator.getRef(), plane,
        inbox));
    Hello hello = expect(Hello.class);
    assertEquals(Hello.SHARD, hello.role());
    assertEquals(plane.self(), hello.endpoint());
    shard = new RunningShard(actor, plane, hello.ref(), hello.endpoint(), hello.shard());
    return shard;
  }

  private void startCluster() {
    coordinator = testKit.createTestProbe(ControlMessage.class);
    worker1 = new FakeWorker("worker-1");
    worker2 = new FakeWorker("worker-2");
  }

  private Install install(int version, List<Integer> chunkShards) {
    Plan plan = new Plan(JOB, version, 2, 1,
        List.of(new Plan.StageLayers(0, 0, 1), new Plan.StageLayers(1, 1, 2)),
        List.of(new Plan.WorkerAssignment("worker-1", 0, 0), new Plan.WorkerAssignment("worker-2", 0, 1)),
        chunkShards, 4, List.of(new Plan.ReplicaGroups(0, List.of(0, 1, 2))));
    worker1.plane.acceptPlan(version);
    worker2.plane.acceptPlan(version);
    return new Install(JOB, 0, plan, List.of(shard.endpoint(), worker1.plane.self(), worker2.plane.self()),
        STAGE_TENSORS);
  }

  /** The next message to the coordinator that is not a Hello heartbeat, which must be a {@code type}. */
  private <T extends ControlMessage> T expect(Class<T> type) {
    while (true) {
      ControlMessage m = coordinator.receiveMessage(WAIT);
      if (!(m instanceof Hello) || type == Hello.class) {
        return assertInstanceOf(type, m);
      }
    }
  }

  private void tell(ControlMessage m) {
    shard.control().tell(m);
  }

  private void installPlan(int version) {
    tell(install(version, CHUNK_SHARDS));
    assertEquals(new Ready(JOB, version, "shard-0"), expect(Ready.class));
  }

  /**
   * Runs step 0 up to the shard's vote: Begin, each worker checks it received the initial parameters of its stage's
   * owned tensor and sends its group sums (in scrambled group order); the test checks the NormPartial, answers the
   * reference's global norm and expects Prepared(1).
   */
  private void stepZeroUntilPrepared(Reference ref, int version) throws InterruptedException {
    tell(new Begin(JOB, 0, version));
    float[] init = initialParams();
    assertParameters(worker1.take(), 0, version, 0, 0, init);
    assertParameters(worker2.take(), 0, version, 1, 2, init);
    for (int g : new int[] {2, 0, 1}) {
      worker1.sendGroupSum(shard.endpoint(), 0, version, 0, g, 0);
      worker2.sendGroupSum(shard.endpoint(), 0, version, 1, g, 2);
    }
    NormPartial partial = expect(NormPartial.class);
    assertEquals(0, partial.step());
    assertEquals(version, partial.planVersion());
    assertArrayEquals(OWNED, partial.tensors());
    for (int i = 0; i < OWNED.length; i++) {
      assertEquals(Double.doubleToRawLongBits(ref.squaredNorms()[OWNED[i]]),
          Double.doubleToRawLongBits(partial.squaredNorms()[i]), "squared norm of tensor " + OWNED[i]);
    }
    // The coordinator's sum: every tensor's squared norm in manifest order, this shard's from its partial.
    double sum = 0.0;
    for (int t = 0; t < MODEL.count(); t++) {
      sum += t == 0 ? partial.squaredNorms()[0] : t == 2 ? partial.squaredNorms()[1] : ref.squaredNorms()[t];
    }
    double norm = Math.sqrt(sum);
    assertEquals(Double.doubleToRawLongBits(ref.norm()), Double.doubleToRawLongBits(norm), "the global norm");
    tell(new GlobalNorm(JOB, 0, version, norm));
    assertEquals(new Prepared(JOB, 1, version, SHARD), expect(Prepared.class));
  }

  private static void assertParameters(DataPlane.Tensor t, long step, int version, int stage, int tensor,
                                       float[] model) {
    String what = "PARAMETERS of tensor " + tensor + " for step " + step;
    assertEquals(FrameKind.PARAMETERS, t.kind(), what);
    assertEquals(step, t.step(), what);
    assertEquals(version, t.planVersion(), what);
    assertEquals(stage, t.stage(), what);
    assertEquals(tensor, t.tensorId(), what);
    assertArrayEquals(MODEL.get(tensor).shape(), t.shape(), what);
    assertSameBits(model, (int) MODEL.offset(tensor), t.floats(), 0, (int) MODEL.get(tensor).size(), what);
  }

  private static void assertSameBits(float[] expected, int from, float[] actual, int actualFrom, int n,
                                     String what) {
    for (int i = 0; i < n; i++) {
      assertEquals(Float.floatToRawIntBits(expected[from + i]), Float.floatToRawIntBits(actual[actualFrom + i]),
          what + ", element " + i);
    }
  }

  /** The shard's store (opened once the actor has stopped) holds exactly {@code params} and {@code state}. */
  private void assertStoreHolds(long step, float[] params, OptimizerState state) {
    ParameterManifest sub = new ParameterManifest(List.of(MODEL.get(0), MODEL.get(2)));
    try (ShardStore store = ShardStore.open(storeFile(), JOB, sub)) {
      assertEquals(step, store.committedStep());
      assertEquals(-1, store.preparedStep());
      FlatFloats p = store.committedParams();
      OptimizerState s = store.committedState();
      for (int i = 0; i < OWNED.length; i++) {
        int t = OWNED[i];
        String what = "tensor " + t + " of committed step " + step;
        assertSameBits(params, (int) MODEL.offset(t), p.array(i), p.offset(i), (int) MODEL.get(t).size(), what);
        if (state == null) {
          continue;
        }
        assertArrayEquals(state.momentumBf16(t), s.momentumBf16(i), what + ": momentum");
        if (state.layout(t).factored()) {
          assertArrayEquals(state.secondMomentRows(t), s.secondMomentRows(i), what + ": row moments");
          assertArrayEquals(state.secondMomentCols(t), s.secondMomentCols(i), what + ": column moments");
        } else {
          assertArrayEquals(state.secondMoment(t), s.secondMoment(i), what + ": second moment");
        }
      }
    }
  }

  // ---- the tests ---------------------------------------------------------------------------------------------------

  @Test
  void aStepThroughTheProtocolCommitsBitForBitWhatOneProcessComputes() throws InterruptedException {
    Reference ref = Reference.stepZero();
    startCluster();
    startShard();
    assertEquals(new ShardState(SHARD, 0, -1), shard.firstState(), "a new store starts at step 0");
    installPlan(VERSION);
    stepZeroUntilPrepared(ref, VERSION);
    tell(new Commit(JOB, 1, VERSION));
    assertEquals(new Committed(JOB, 1, VERSION, SHARD), expect(Committed.class));
    tell(new Commit(JOB, 1, VERSION));
    assertEquals(new Committed(JOB, 1, VERSION, SHARD), expect(Committed.class), "commit is idempotent");
    assertEquals(new ShardState(SHARD, 1, -1), expect(Hello.class).shard());

    // Step 1 begins with the committed parameters of step 1: what one process computed.
    tell(new Begin(JOB, 1, VERSION));
    assertParameters(worker1.take(), 1, VERSION, 0, 0, ref.params());
    assertParameters(worker2.take(), 1, VERSION, 1, 2, ref.params());

    shard.stop();
    shard = null;
    assertStoreHolds(1, ref.params(), ref.state());
  }

  @Test
  void theNextStepsParametersLeaveAtItsCommitOnceAndAgainForANewPlan() throws InterruptedException {
    Reference ref = Reference.stepZero();
    startCluster();
    startShard();
    installPlan(VERSION);
    stepZeroUntilPrepared(ref, VERSION);
    tell(new Commit(JOB, 1, VERSION));
    assertEquals(new Committed(JOB, 1, VERSION, SHARD), expect(Committed.class));
    // Before any Begin(1): the committed parameters of step 1 are already on their way.
    assertParameters(worker1.take(), 1, VERSION, 0, 0, ref.params());
    assertParameters(worker2.take(), 1, VERSION, 1, 2, ref.params());

    // Begin(1) under the same plan sends nothing again.
    tell(new Begin(JOB, 1, VERSION));
    tell(install(VERSION, CHUNK_SHARDS));
    assertEquals(new Ready(JOB, VERSION, "shard-0"), expect(Ready.class));
    assertNull(worker1.received.poll(200, TimeUnit.MILLISECONDS), "no second copy for worker-1");
    assertNull(worker2.received.poll(0, TimeUnit.MILLISECONDS), "no second copy for worker-2");

    // Step 1 aborted and re-planned: the new plan's Begin sends them again, under its version.
    tell(new Abort(JOB, 1, VERSION, "worker-2 was lost"));
    installPlan(VERSION + 1);
    tell(new Begin(JOB, 1, VERSION + 1));
    assertParameters(worker1.take(), 1, VERSION + 1, 0, 0, ref.params());
    assertParameters(worker2.take(), 1, VERSION + 1, 1, 2, ref.params());
  }

  @Test
  void anAbortAfterTheVoteLeavesTheCommittedStepUnchanged() throws InterruptedException {
    Reference ref = Reference.stepZero();
    startCluster();
    startShard();
    installPlan(VERSION);
    stepZeroUntilPrepared(ref, VERSION);
    tell(new Abort(JOB, 0, VERSION, "worker-2 was lost"));
    // A commit of the dropped step is refused: the next reply is the Ready of the new plan, not a Committed.
    tell(new Commit(JOB, 1, VERSION));
    installPlan(VERSION + 1);
    assertEquals(new ShardState(SHARD, 0, -1), expect(Hello.class).shard());

    // Step 0 runs again from the same committed parameters.
    tell(new Begin(JOB, 0, VERSION + 1));
    float[] init = initialParams();
    assertParameters(worker1.take(), 0, VERSION + 1, 0, 0, init);
    assertParameters(worker2.take(), 0, VERSION + 1, 1, 2, init);

    shard.stop();
    shard = null;
    assertStoreHolds(0, init, null);
  }

  @Test
  void aStepPreparedBeforeARestartIsCommittedAfterIt() throws InterruptedException {
    Reference ref = Reference.stepZero();
    startCluster();
    startShard();
    installPlan(VERSION);
    stepZeroUntilPrepared(ref, VERSION);
    shard.stop();

    startShard();
    assertEquals(new ShardState(SHARD, 0, 1), shard.firstState(), "the restarted shard reports its prepared step");
    tell(new Commit(JOB, 1, VERSION + 1));
    assertEquals(new Committed(JOB, 1, VERSION + 1, SHARD), expect(Committed.class));
    assertEquals(new ShardState(SHARD, 1, -1), expect(Hello.class).shard());

    shard.stop();
    shard = null;
    assertStoreHolds(1, ref.params(), ref.state());
  }

  @Test
  void aPlanGivingTheShardOtherTensorsIsRefused() {
    startCluster();
    startShard();
    tell(install(VERSION, List.of(1, 0, 1, 0)));
    tell(install(VERSION + 1, List.of(0, 0, 1, 1)));
    tell(install(VERSION + 2, CHUNK_SHARDS));
    assertEquals(new Ready(JOB, VERSION + 2, "shard-0"), expect(Ready.class),
        "no Ready for the plans that give this shard other tensors");
  }
}

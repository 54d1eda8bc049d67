package io.vitfleet.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.model.StageGraph;
import io.vitfleet.model.ViTConfig;
import io.vitfleet.model.ViTParameters;
import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.control.Endpoint;
import io.vitfleet.protocol.control.Install;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.frame.DType;
import io.vitfleet.protocol.frame.FrameKind;
import io.vitfleet.protocol.link.DataPlane;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The stage executor against the one-process trainer's arithmetic, with real TensorFlow: every plan (P stages x D
 * replicas) must hand the shards exactly the group sums of the whole-model loop, bit for bit.
 */
class StageExecutorTest {
  static final ViTConfig MODEL = ReferenceStep.MODEL;
  static final int MICROBATCH = ReferenceStep.MICROBATCH;
  static final int K = ReferenceStep.K;
  static final int GROUPS = ReferenceStep.GROUPS;
  static final int GLOBAL_BATCH = ReferenceStep.GLOBAL_BATCH;
  static final ParameterManifest FULL = ReferenceStep.FULL;
  static final long JOB = 77;
  static final long STEP = 3;
  static final Duration TIMEOUT = Duration.ofSeconds(60);

  static StageGraph whole;
  static StageGraph first;
  static StageGraph second;
  static ReferenceStep reference;

  @BeforeAll
  static void computeTheOneProcessReference() {
    whole = ReferenceStep.wholeModel();
    first = StageGraph.training(MODEL, 0, 1, MICROBATCH, ReferenceStep.THREADS);
    second = StageGraph.training(MODEL, 1, 2, MICROBATCH, ReferenceStep.THREADS);
    reference = new ReferenceStep(whole, 11);
  }

  @AfterAll
  static void closeGraphs() {
    whole.close();
    first.close();
    second.close();
  }

  @Test
  void oneWorkerRunningTheWholeModelReproducesTheOneProcessGroupSumsBitForBit() throws Exception {
    Cluster c = new Cluster(1, List.of(List.of(0, 1)));
    List<StageExecutor.StepOutcome> outcomes = c.runStep();
    assertGroupSumsAreTheReference(c.fabric);
    assertEquals(reference.totalLoss, outcomes.get(0).lossSum(), "loss summed in microbatch order");
    assertEquals(K, outcomes.get(0).microbatches());
    c.assertEverythingWasConsumed();
  }

  @Test
  void aTwoStagePipelineReproducesTheOneProcessGroupSumsBitForBit() throws Exception {
    Cluster c = new Cluster(2, List.of(List.of(0, 1)));
    List<StageExecutor.StepOutcome> outcomes = c.runStep();
    assertGroupSumsAreTheReference(c.fabric);
    assertEquals(0.0, outcomes.get(0).lossSum(), "only the last stage reports a loss");
    assertEquals(reference.totalLoss, outcomes.get(1).lossSum());
    c.assertEverythingWasConsumed();
  }

  @Test
  void twoReplicasOfOneGroupEachReproduceTheOneProcessGroupSumsBitForBit() throws Exception {
    // Replica 0 runs group 1 and replica 1 group 0: which replica runs a group does not matter.
    Cluster c = new Cluster(1, List.of(List.of(1), List.of(0)));
    List<StageExecutor.StepOutcome> outcomes = c.runStep();
    assertGroupSumsAreTheReference(c.fabric);
    assertEquals(reference.groupLoss[1], outcomes.get(0).lossSum());
    assertEquals(reference.groupLoss[0], outcomes.get(1).lossSum());
    assertEquals(K / GROUPS, outcomes.get(0).microbatches());
  }

  @Test
  void twoReplicasOfTwoStagesReproduceTheOneProcessGroupSumsBitForBit() throws Exception {
    Cluster c = new Cluster(2, List.of(List.of(0), List.of(1)));
    List<StageExecutor.StepOutcome> outcomes = c.runStep();
    assertGroupSumsAreTheReference(c.fabric);
    assertEquals(reference.groupLoss[0], outcomes.get(1).lossSum());
    assertEquals(reference.groupLoss[1], outcomes.get(3).lossSum());
    c.assertEverythingWasConsumed();
  }

  @Test
  void anInstallWhoseStageTensorsDisagreeWithTheStageGraphIsRefused() {
    Install good = install(2, List.of(List.of(0, 1)));
    List<List<Integer>> swapped = new ArrayList<>(good.stageTensors());
    List<Integer> stage0 = new ArrayList<>(swapped.get(0));
    stage0.set(0, swapped.get(0).get(1));
    stage0.set(1, swapped.get(0).get(0));
    swapped.set(0, stage0);
    Install bad = new Install(JOB, STEP, good.plan(), good.endpoints(), swapped);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new StageExecutor(bad, 0, 0, first, GLOBAL_BATCH, GROUPS, TIMEOUT));
    assertTrue(e.getMessage().contains("disagree on the stage manifest"), e.getMessage());
  }

  @Test
  void aStageGraphOfOtherBlocksThanThePlansStageIsRefused() {
    Install install = install(2, List.of(List.of(0, 1)));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new StageExecutor(install, 0, 0, second, GLOBAL_BATCH, GROUPS, TIMEOUT));
    assertTrue(e.getMessage().contains("holds blocks [0, 1)"), e.getMessage());
  }

  @Test
  void aStepWhoseInputNeverArrivesFailsNamingTheMissingTensorAndItsSender() {
    Cluster c = new Cluster(2, List.of(List.of(0, 1)), Duration.ofMillis(50));
    c.feedParameters();
    TensorMailbox.ReceiveTimeoutException e = assertThrows(TensorMailbox.ReceiveTimeoutException.class,
        () -> c.executors.get(1).runStep(STEP, c.mailboxes.get(1), c.fabric));
    assertTrue(e.getMessage().contains("ACTIVATION of step 3 microbatch 0"), e.getMessage());
    assertTrue(e.getMessage().contains("is worker-0 running?"), e.getMessage());
  }

  @Test
  void aCancelledMailboxStopsAStepWaitingForItsInput() throws Exception {
    Cluster c = new Cluster(1, List.of(List.of(0, 1)));
    ExecutorService thread = Executors.newSingleThreadExecutor();
    try {
      Future<StageExecutor.StepOutcome> step = thread.submit(
          () -> c.executors.get(0).runStep(STEP, c.mailboxes.get(0), c.fabric));
      c.mailboxes.get(0).cancel();
      ExecutionException e = assertThrows(ExecutionException.class, step::get);
      assertTrue(e.getCause() instanceof CancellationException, e.getCause().toString());
    } finally {
      thread.shutdownNow();
    }
  }

  // ---------------------------------------------------------------------------------------------------------------

  private static void assertGroupSumsAreTheReference(InMemoryFabric fabric) {
    assertEquals(GROUPS * FULL.count(), fabric.groupSums().size(), "one sum per group and tensor");
    for (int g = 0; g < GROUPS; g++) {
      for (int i = 0; i < FULL.count(); i++) {
        assertTrue(reference.isGroupSum(g, i, fabric.groupSums().get(new InMemoryFabric.GroupTensor(g, i))),
            "group " + g + " tensor " + i + " " + FULL.get(i) + " differs from the one-process sum");
      }
    }
    assertTrue(reference.hasNonZeroGradient(1, 0),
        "the gradient reaches the embedding, so the first stage's sums are not trivially zero");
  }

  private static String worker(int replica, int stage, int stages) {
    return "worker-" + (replica * stages + stage);
  }

  /** An Install of P stages (one block each when P = 2) and one replica per list of groups. */
  static Install install(int stages, List<List<Integer>> replicaGroups) {
    int replicas = replicaGroups.size();
    List<Plan.StageLayers> layers = stages == 1 ? List.of(new Plan.StageLayers(0, 0, 2))
        : List.of(new Plan.StageLayers(0, 0, 1), new Plan.StageLayers(1, 1, 2));
    List<Plan.WorkerAssignment> workers = new ArrayList<>();
    List<Endpoint> endpoints = new ArrayList<>();
    for (int r = 0; r < replicas; r++) {
      for (int s = 0; s < stages; s++) {
        workers.add(new Plan.WorkerAssignment(worker(r, s, stages), r, s));
        endpoints.add(new Endpoint(worker(r, s, stages), "aeron:ipc", 3000 + r * stages + s));
      }
    }
    endpoints.add(new Endpoint("shard-0", "aeron:ipc", 2000));
    endpoints.add(new Endpoint("shard-1", "aeron:ipc", 2001));
    endpoints.add(new Endpoint("feeder", "aeron:ipc", 1000));
    List<Integer> chunkShards = new ArrayList<>();
    for (int i = 0; i < FULL.count(); i++) {
      chunkShards.add(i % 2);
    }
    List<Plan.ReplicaGroups> groups = new ArrayList<>();
    for (int r = 0; r < replicas; r++) {
      groups.add(new Plan.ReplicaGroups(r, replicaGroups.get(r)));
    }
    Plan plan = new Plan(JOB, 6, stages, replicas, layers, workers, chunkShards, MICROBATCH, groups);
    List<List<Integer>> stageTensors = new ArrayList<>();
    for (Plan.StageLayers l : layers) {
      List<Integer> ids = new ArrayList<>();
      ViTParameters.stageManifest(MODEL, l.firstBlock(), l.endBlock()).specs()
          .forEach(spec -> ids.add(FULL.indexOf(spec.name())));
      stageTensors.add(ids);
    }
    return new Install(JOB, STEP, plan, endpoints, stageTensors);
  }

  /** Executors of every (replica, stage) of a plan, their mailboxes, and the fabric between them. */
  static final class Cluster {
    final Install install;
    final InMemoryFabric fabric = new InMemoryFabric();
    final List<StageExecutor> executors = new ArrayList<>();
    final List<TensorMailbox> mailboxes = new ArrayList<>();
    final int stages;

    Cluster(int stages, List<List<Integer>> replicaGroups) {
      this(stages, replicaGroups, TIMEOUT);
    }

    Cluster(int stages, List<List<Integer>> replicaGroups, Duration timeout) {
      this.stages = stages;
      this.install = install(stages, replicaGroups);
      for (int r = 0; r < replicaGroups.size(); r++) {
        for (int s = 0; s < stages; s++) {
          StageGraph graph = stages == 1 ? whole : s == 0 ? first : second;
          executors.add(new StageExecutor(install, r, s, graph, GLOBAL_BATCH, GROUPS, timeout));
          mailboxes.add(fabric.join(worker(r, s, stages), install.plan().version()));
        }
      }
    }

    /** What the shards and the feeder send: each stage's parameters, images to stage 0, labels to the last. */
    void feedParameters() {
      int version = install.plan().version();
      for (int w = 0; w < executors.size(); w++) {
        int s = executors.get(w).stage();
        for (int id : install.stageTensors().get(s)) {
          float[] values = ReferenceStep.slice(reference.params, id);
          mailboxes.get(w).put(new DataPlane.Tensor(FrameKind.PARAMETERS, STEP, version, 0, s, id, DType.F32,
              FULL.get(id).shape(), values, null));
        }
      }
    }

    void feedMicrobatches() {
      int version = install.plan().version();
      for (int w = 0; w < executors.size(); w++) {
        StageExecutor e = executors.get(w);
        for (int k : e.microbatches()) {
          if (e.stage() == 0) {
            mailboxes.get(w).put(new DataPlane.Tensor(FrameKind.IMAGES, STEP, version, k, 0, 0, DType.F32,
                new int[] {MICROBATCH, 28, 28, 1}, reference.images[k].clone(), null));
          }
          if (e.stage() == stages - 1) {
            mailboxes.get(w).put(new DataPlane.Tensor(FrameKind.LABELS, STEP, version, k, stages - 1, 0,
                DType.I32, new int[] {MICROBATCH}, null, reference.labels[k].clone()));
          }
        }
      }
    }

    /** Runs every executor on its own thread, as the workers of a cluster do; outcomes in executor order. */
    List<StageExecutor.StepOutcome> runStep() throws Exception {
      feedParameters();
      feedMicrobatches();
      ExecutorService threads = Executors.newFixedThreadPool(executors.size());
      try {
        List<Future<StageExecutor.StepOutcome>> futures = new ArrayList<>();
        for (int w = 0; w < executors.size(); w++) {
          StageExecutor e = executors.get(w);
          TensorMailbox box = mailboxes.get(w);
          futures.add(threads.submit(() -> e.runStep(STEP, box, fabric)));
        }
        List<StageExecutor.StepOutcome> outcomes = new ArrayList<>();
        for (Future<StageExecutor.StepOutcome> f : futures) {
          outcomes.add(f.get());
        }
        return outcomes;
      } finally {
        threads.shutdownNow();
      }
    }

    void assertEverythingWasConsumed() {
      for (TensorMailbox box : mailboxes) {
        assertEquals(0, box.size(), "every tensor sent to a worker was used");
      }
    }
  }
}

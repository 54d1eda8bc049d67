package io.vitfleet.coordinator.plan;

import static io.vitfleet.coordinator.plan.PlanFixtures.PLENTY;
import static io.vitfleet.coordinator.plan.PlanFixtures.TI4;
import static io.vitfleet.coordinator.plan.PlanFixtures.allGroups;
import static io.vitfleet.coordinator.plan.PlanFixtures.job;
import static io.vitfleet.coordinator.plan.PlanFixtures.largestStage;
import static io.vitfleet.coordinator.plan.PlanFixtures.range;
import static io.vitfleet.coordinator.plan.PlanFixtures.worker;
import static io.vitfleet.coordinator.plan.PlanFixtures.workers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.model.ViTParameters;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.control.Plan.StageLayers;
import io.vitfleet.protocol.control.WorkerInfo;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PlannerTest {
  private final Planner planner = new Planner(TI4, job(4), 3);

  @Test
  void oneWorkerRunsTheWholeModelAsOneStageWithEveryGroup() {
    Plan plan = planner.plan(workers(1, PLENTY), PlanConstraints.FREE, 0);
    assertEquals(1, plan.pipelineDepth());
    assertEquals(1, plan.dataParallel());
    assertEquals(List.of(new StageLayers(0, 0, 12)), plan.stages());
    assertEquals("w0", plan.workerOf(0, 0));
    assertEquals(List.of(0, 1, 2, 3), plan.replicaGroups().get(0).groups());
    assertEquals(42L, plan.jobId());
    assertEquals(8, plan.microbatchSize());
  }

  @Test
  void withEnoughMemoryEveryWorkerBecomesAReplicaUntilTheGroupsRunOut() {
    for (int n = 1; n <= 8; n++) {
      Plan plan = planner.plan(workers(n, PLENTY), PlanConstraints.FREE, 0);
      assertEquals(1, plan.pipelineDepth(), "P for " + n + " workers");
      assertEquals(Math.min(4, n), plan.dataParallel(), "D for " + n + " workers");
      assertEquals(range(4), allGroups(plan), "groups for " + n + " workers");
    }
  }

  @Test
  void workersThatCannotHoldTheWholeModelGetADeeperPipeline() {
    long fitsHalf = largestStage(planner, 2, 2);
    assertTrue(fitsHalf < largestStage(planner, 1, 4), "half the model must need less than all of it");
    for (int n = 2; n <= 8; n++) {
      Plan plan = planner.plan(workers(n, fitsHalf), PlanConstraints.FREE, 0);
      assertEquals(2, plan.pipelineDepth(), "P for " + n + " workers");
      assertEquals(Math.min(4, n / 2), plan.dataParallel(), "D for " + n + " workers");
    }
  }

  @Test
  void groupsAreDealtRoundRobinAndEachBelongsToExactlyOneReplica() {
    Plan plan = planner.plan(workers(3, PLENTY), PlanConstraints.FREE, 0);
    assertEquals(3, plan.dataParallel());
    assertEquals(List.of(0, 3), plan.replicaGroups().get(0).groups());
    assertEquals(List.of(1), plan.replicaGroups().get(1).groups());
    assertEquals(List.of(2), plan.replicaGroups().get(2).groups());
    assertEquals(range(4), allGroups(plan));
  }

  @Test
  void forcedStagesAndReplicasAreHonouredAndSurplusWorkersStaySpare() {
    Plan plan = planner.plan(workers(5, PLENTY), new PlanConstraints(2, 2), 3);
    assertEquals(2, plan.pipelineDepth());
    assertEquals(2, plan.dataParallel());
    assertEquals(3, plan.version());
    assertEquals(List.of(new StageLayers(0, 0, 6), new StageLayers(1, 6, 12)), plan.stages());
    assertEquals(List.of("w0", "w1", "w2", "w3"), plan.workers().stream().map(w -> w.workerId()).toList());
  }

  @Test
  void aForcedDepthAloneStillMaximisesTheReplicas() {
    Plan plan = planner.plan(workers(7, PLENTY), new PlanConstraints(3, 0), 0);
    assertEquals(3, plan.pipelineDepth());
    assertEquals(2, plan.dataParallel());
  }

  @Test
  void moreStagesThanBlocksIsRefused() {
    PlanningException e = assertThrows(PlanningException.class,
        () -> planner.plan(workers(13, PLENTY), new PlanConstraints(13, 1), 0));
    assertEquals("13 stages for a model of 12 blocks: at most 12 stages", e.getMessage());
  }

  @Test
  void moreReplicasThanGroupsIsRefused() {
    PlanningException e = assertThrows(PlanningException.class,
        () -> planner.plan(workers(8, PLENTY), new PlanConstraints(1, 5), 0));
    assertEquals("5 replicas but the job has 4 groups: at most 4 replicas (D <= G)", e.getMessage());
  }

  @Test
  void fewerWorkersThanForcedStagesTimesReplicasIsRefused() {
    PlanningException e = assertThrows(PlanningException.class,
        () -> planner.plan(workers(5, PLENTY), new PlanConstraints(2, 3), 0));
    assertEquals("5 workers for P=2 x D=3 = 6: add workers or lower --stages or --replicas", e.getMessage());
    PlanningException stagesOnly = assertThrows(PlanningException.class,
        () -> planner.plan(workers(1, PLENTY), new PlanConstraints(2, 0), 0));
    assertEquals("1 worker for P=2 stages: each stage needs its own worker; add workers or lower --stages",
        stagesOnly.getMessage());
  }

  @Test
  void noWorkersIsRefused() {
    PlanningException e = assertThrows(PlanningException.class,
        () -> planner.plan(List.of(), PlanConstraints.FREE, 0));
    assertEquals("no workers to plan on: start at least one worker (--workers)", e.getMessage());
  }

  @Test
  void notEnoughMemoryNamesTheStageItsNeedsAndTheWorker() {
    long small = 100L << 20;
    PlanningException e = assertThrows(PlanningException.class,
        () -> planner.plan(List.of(worker("w0", small, 1.0)), new PlanConstraints(1, 1), 0));
    StageMemory need = planner.memory(StagePartition.balanced(TI4, 1), 1).get(0);
    assertEquals("stage 0 of P=1, D=1 needs " + need.describe() + " but worker w0 declares 100.0 MiB: give the "
        + "workers more memory, add workers for a deeper pipeline, or lower the microbatch size", e.getMessage());
    assertTrue(e.getMessage().contains("runtime 256.0 MiB"), e.getMessage());
  }

  @Test
  void whenNothingFitsTheMessageReportsTheDeepestPipelineTried() {
    PlanningException e = assertThrows(PlanningException.class,
        () -> planner.plan(workers(3, 100L << 20), PlanConstraints.FREE, 0));
    assertTrue(e.getMessage().startsWith("stage 0 of P=3, D=1 needs "), e.getMessage());
    assertTrue(e.getMessage().contains(" but worker w0 declares 100.0 MiB: "), e.getMessage());
  }

  @Test
  void aWorkerTooSmallForAnyStageIsLeftOutAndTheOthersAreUsed() {
    List<WorkerInfo> ws = new ArrayList<>(workers(2, PLENTY));
    ws.add(worker("tiny", 1L << 20, 1000.0));
    Plan plan = planner.plan(ws, PlanConstraints.FREE, 0);
    assertEquals(1, plan.pipelineDepth());
    assertEquals(2, plan.dataParallel());
    assertFalse(plan.workers().stream().anyMatch(w -> w.workerId().equals("tiny")));
  }

  @Test
  void theSamePlanComesOutWhateverTheOrderOfTheWorkers() {
    List<WorkerInfo> ws = new ArrayList<>();
    for (int i = 0; i < 7; i++) {
      ws.add(worker("w" + i, largestStage(planner, 3, 2) + i * (1L << 20), 10.0 * (i % 3)));
    }
    Plan first = planner.plan(ws, PlanConstraints.FREE, 0);
    Random random = new Random(7);
    for (int trial = 0; trial < 5; trial++) {
      List<WorkerInfo> shuffled = new ArrayList<>(ws);
      Collections.shuffle(shuffled, random);
      assertEquals(first, planner.plan(shuffled, PlanConstraints.FREE, 0));
    }
  }

  @Test
  void fasterWorkersTakeTheHeavierStages() {
    // Ti/4's last stage carries the MAP head and the classifier, so of two halves it is the heavier.
    long head = StagePartition.stageFlops(TI4, 6, 12);
    assertTrue(head > StagePartition.stageFlops(TI4, 0, 6));
    Plan plan = planner.plan(List.of(worker("a-fast", PLENTY, 50.0), worker("b-slow", PLENTY, 5.0)),
        new PlanConstraints(2, 1), 0);
    assertEquals("a-fast", plan.workerOf(0, 1));
    assertEquals("b-slow", plan.workerOf(0, 0));
  }

  @Test
  void memoryComesBeforeSpeedWhenPlacingWorkers() {
    long stage0 = planner.memory(StagePartition.balanced(TI4, 2), 1).get(0).totalBytes();
    long stage1 = planner.memory(StagePartition.balanced(TI4, 2), 1).get(1).totalBytes();
    assertTrue(stage0 > stage1, "stage 0 keeps two microbatches in flight, stage 1 one");
    // The fast worker would go to the heavier stage 1, but only it can hold stage 0.
    Plan plan = planner.plan(List.of(worker("a-fast", stage0, 50.0), worker("b-slow", stage1, 5.0)),
        new PlanConstraints(2, 1), 0);
    assertEquals("a-fast", plan.workerOf(0, 0));
    assertEquals("b-slow", plan.workerOf(0, 1));
  }

  @Test
  void chunksAreWholeTensorsSpreadOverTheShards() {
    Plan plan = planner.plan(workers(1, PLENTY), PlanConstraints.FREE, 0);
    assertEquals(ViTParameters.manifest(TI4).count(), plan.chunkShards().size());
    assertEquals(List.of(0, 1, 2), plan.chunkShards().stream().distinct().sorted().toList());
  }
}

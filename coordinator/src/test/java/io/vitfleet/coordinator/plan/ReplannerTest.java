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
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.control.WorkerInfo;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReplannerTest {

  private static List<WorkerInfo> without(List<WorkerInfo> ws, String id) {
    return ws.stream().filter(w -> !w.workerId().equals(id)).toList();
  }

  private static boolean uses(Plan plan, String id) {
    return plan.workers().stream().anyMatch(w -> w.workerId().equals(id));
  }

  @Test
  void losingAWorkerOfOneOfSeveralReplicasDropsOneReplicaAndKeepsEveryGroup() {
    Planner planner = new Planner(TI4, job(4), 2);
    List<WorkerInfo> ws = workers(4, PLENTY);
    Plan before = planner.plan(ws, PlanConstraints.FREE, 5);
    assertEquals(4, before.dataParallel());
    Plan after = new Replanner(planner, PlanConstraints.FREE).afterLoss(before, "w2", without(ws, "w2"));
    assertEquals(6, after.version());
    assertEquals(1, after.pipelineDepth());
    assertEquals(3, after.dataParallel());
    assertFalse(uses(after, "w2"));
    assertEquals(range(4), allGroups(after));
  }

  @Test
  void losingAWorkerOfADeeperPipelineKeepsTheDepthWhileAReplicaRemains() {
    Planner planner = new Planner(TI4, job(4), 2);
    List<WorkerInfo> ws = workers(4, largestStage(planner, 2, 2));
    Plan before = planner.plan(ws, PlanConstraints.FREE, 0);
    assertEquals(2, before.pipelineDepth());
    assertEquals(2, before.dataParallel());
    Plan after = new Replanner(planner, PlanConstraints.FREE).afterLoss(before, "w1", without(ws, "w1"));
    assertEquals(2, after.pipelineDepth());
    assertEquals(1, after.dataParallel());
    assertEquals(range(4), allGroups(after));
  }

  @Test
  void losingAWorkerOfTheOnlyReplicaMakesFewerDeeperStages() {
    Planner planner = new Planner(TI4, job(4), 2);
    List<WorkerInfo> ws = workers(3, PLENTY);
    Plan before = planner.plan(ws, new PlanConstraints(3, 1), 0);
    Plan after = new Replanner(planner, new PlanConstraints(3, 1)).afterLoss(before, "w1", without(ws, "w1"));
    assertEquals(2, after.pipelineDepth());
    assertEquals(1, after.dataParallel());
    assertEquals(List.of("w0", "w2"), after.workers().stream().map(w -> w.workerId()).toList());
    assertEquals(range(4), allGroups(after));
  }

  @Test
  void aSpareStepsInForALostWorkerAndTheReplicasStay() {
    Planner planner = new Planner(TI4, job(4), 2);
    List<WorkerInfo> ws = workers(5, PLENTY);
    Plan before = planner.plan(ws, PlanConstraints.FREE, 0);
    assertFalse(uses(before, "w4"));
    Plan after = new Replanner(planner, PlanConstraints.FREE).afterLoss(before, "w1", without(ws, "w1"));
    assertEquals(4, after.dataParallel());
    assertTrue(uses(after, "w4"));
  }

  @Test
  void losingASpareChangesNothing() {
    Planner planner = new Planner(TI4, job(4), 2);
    List<WorkerInfo> ws = workers(5, PLENTY);
    Plan before = planner.plan(ws, PlanConstraints.FREE, 0);
    assertSame(before, new Replanner(planner, PlanConstraints.FREE).afterLoss(before, "w4", without(ws, "w4")));
  }

  @Test
  void whenTheSurvivorsCannotHoldTheModelTheRefusalSaysWhy() {
    Planner planner = new Planner(TI4, job(1), 2);
    List<WorkerInfo> ws = workers(2, largestStage(planner, 2, 1));
    Plan before = planner.plan(ws, PlanConstraints.FREE, 0);
    assertEquals(2, before.pipelineDepth());
    PlanningException e = assertThrows(PlanningException.class,
        () -> new Replanner(planner, PlanConstraints.FREE).afterLoss(before, "w1", without(ws, "w1")));
    assertTrue(e.getMessage().startsWith(
        "after losing worker w1 no plan fits the surviving 1 worker: stage 0 of P=1, D=1 needs "), e.getMessage());
    assertTrue(e.getMessage().endsWith(" but worker w0 declares " + StageMemory.bytes(largestStage(planner, 2, 1))
        + ": give the workers more memory, add workers for a deeper pipeline, or lower the microbatch size"),
        e.getMessage());
  }

  @Test
  void aJoiningWorkerIsUsedFromTheNextPlan() {
    Planner planner = new Planner(TI4, job(4), 2);
    List<WorkerInfo> ws = new ArrayList<>(workers(2, PLENTY));
    Plan before = planner.plan(ws, PlanConstraints.FREE, 9);
    assertEquals(2, before.dataParallel());
    ws.add(worker("w9", PLENTY, 100.0));
    Plan after = new Replanner(planner, PlanConstraints.FREE).afterJoin(before, ws);
    assertEquals(10, after.version());
    assertEquals(3, after.dataParallel());
    assertTrue(uses(after, "w9"));
    assertEquals(range(4), allGroups(after));
  }

  @Test
  void afterAKillAndAJoinTheRequestedShapeComesBack() {
    // check determinism (d): P=2, D=1, one worker killed, a new one joining.
    Planner planner = new Planner(TI4, job(4), 2);
    PlanConstraints requested = new PlanConstraints(2, 1);
    Replanner replanner = new Replanner(planner, requested);
    List<WorkerInfo> ws = workers(2, PLENTY);
    Plan v0 = planner.plan(ws, requested, 0);
    Plan v1 = replanner.afterLoss(v0, "w1", without(ws, "w1"));
    assertEquals(1, v1.pipelineDepth());
    assertEquals(1, v1.dataParallel());
    List<WorkerInfo> members = List.of(ws.get(0), worker("w7", PLENTY, 100.0));
    Plan v2 = replanner.afterJoin(v1, members);
    assertEquals(2, v2.version());
    assertEquals(2, v2.pipelineDepth());
    assertEquals(1, v2.dataParallel());
    assertTrue(uses(v2, "w7"));
  }

  @Test
  void aJoinThatCannotMeetTheRequestFallsBackToAFreePlan() {
    Planner planner = new Planner(TI4, job(4), 2);
    PlanConstraints requested = new PlanConstraints(3, 1);
    Replanner replanner = new Replanner(planner, requested);
    List<WorkerInfo> ws = workers(3, PLENTY);
    Plan v1 = replanner.afterLoss(planner.plan(ws, requested, 0), "w0", without(without(ws, "w0"), "w1"));
    assertEquals(1, v1.pipelineDepth());
    Plan v2 = replanner.afterJoin(v1, List.of(ws.get(2), worker("w5", PLENTY, 100.0)));
    assertEquals(1, v2.pipelineDepth());
    assertEquals(2, v2.dataParallel());
  }
}

package io.vitfleet.coordinator.plan;

import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.control.WorkerInfo;
import java.util.ArrayList;
import java.util.List;

/**
 * The next plan after a membership change (architecture.md, "Faults and what happens"). Plans change only between
 * steps; the coordinator aborts the step in flight, asks for the next plan and runs the step again under it.
 *
 * <p>A lost worker: keep the pipeline depth P and take as many replicas as the survivors can fill (fewer replicas,
 * and no worker changes stage boundaries); when not even one replica of depth P fits, fewer and deeper stages,
 * P - 1 down to 1, as far as memory allows. A joined worker: plan again from scratch on all members under what the
 * operator asked for at {@code up} (or freely, when that request cannot be met), so the newcomer is used from the
 * next plan whenever the plan can use one more worker.
 */
public final class Replanner {
  private final Planner planner;
  private final PlanConstraints requested;

  /** Re-plans with {@code planner}; {@code requested} is what {@code vitfleet up} was asked for. */
  public Replanner(Planner planner, PlanConstraints requested) {
    this.planner = planner;
    this.requested = requested;
  }

  /**
   * The plan after {@code lostWorkerId} went away; {@code survivors} are the members still up (the lost worker, if
   * listed, is ignored). A spare that held no cell costs nothing: the current plan is returned unchanged.
   */
  public Plan afterLoss(Plan current, String lostWorkerId, List<WorkerInfo> survivors) {
    boolean inPlan = current.workers().stream().anyMatch(w -> w.workerId().equals(lostWorkerId));
    if (!inPlan) {
      return current;
    }
    List<WorkerInfo> left = new ArrayList<>();
    for (WorkerInfo w : survivors) {
      if (!w.workerId().equals(lostWorkerId)) {
        left.add(w);
      }
    }
    int next = current.version() + 1;
    PlanningException reason = null;
    for (int p = current.pipelineDepth(); p >= 1; p--) {
      try {
        return planner.plan(left, new PlanConstraints(p, 0), next);
      } catch (PlanningException e) {
        reason = e;
      }
    }
    throw new PlanningException("after losing worker " + lostWorkerId + " no plan fits the surviving "
        + Planner.workers(left.size()) + ": " + reason.getMessage());
  }

  /** The plan after a worker joined; {@code members} are all members now, the newcomer included. */
  public Plan afterJoin(Plan current, List<WorkerInfo> members) {
    int next = current.version() + 1;
    try {
      return planner.plan(members, requested, next);
    } catch (PlanningException notAsRequested) {
      return planner.plan(members, PlanConstraints.FREE, next);
    }
  }
}

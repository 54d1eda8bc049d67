package io.vitfleet.protocol.control;

/**
 * A message of the step protocol (architecture.md, "Step protocol"): each names the job, the step and the plan
 * version it belongs to, so a receiver can ignore leftovers of an aborted step or an older plan.
 */
public sealed interface StepMessage extends ControlMessage, JobScoped
    permits Begin, GroupSumReady, NormPartial, GlobalNorm, Prepared, Commit, Abort, StageDone, Committed {
  /** The job fingerprint. */
  @Override
  long jobId();

  long step();

  int planVersion();
}

package io.vitfleet.protocol.control;

/** Coordinator -> everyone: step {@code step} failed before its commit; drop what was staged, await a new plan. */
public record Abort(long jobId, long step, int planVersion, String reason) implements StepMessage {
  public Abort {
    Checks.stepAndPlan(step, planVersion);
    Checks.named("reason", reason);
  }
}

package io.vitfleet.protocol.control;

/** Coordinator -> everyone: run step {@code step} under plan {@code planVersion} (protocol step 1). */
public record Begin(long jobId, long step, int planVersion) implements StepMessage {
  public Begin {
    Checks.stepAndPlan(step, planVersion);
  }
}

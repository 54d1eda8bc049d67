package io.vitfleet.protocol.control;

/** Coordinator -> everyone: {@code step} (t + 1) is committed; shards flip their slot, workers load it (step 5). */
public record Commit(long jobId, long step, int planVersion) implements StepMessage {
  public Commit {
    Checks.stepAndPlan(step, planVersion);
  }
}

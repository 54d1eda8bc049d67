package io.vitfleet.protocol.control;

/** Shard -> coordinator: {@code step} is now this shard's committed step (its commit records are written). */
public record Committed(long jobId, long step, int planVersion, int shard) implements StepMessage {
  public Committed {
    Checks.stepAndPlan(step, planVersion);
    Checks.nonNegative("shard", shard);
  }
}

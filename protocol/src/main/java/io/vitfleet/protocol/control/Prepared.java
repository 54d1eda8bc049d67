package io.vitfleet.protocol.control;

/** Shard -> coordinator: the parameters of {@code step} (t + 1) are staged on this shard; a commit vote. */
public record Prepared(long jobId, long step, int planVersion, int shard) implements StepMessage {
  public Prepared {
    Checks.stepAndPlan(step, planVersion);
    Checks.nonNegative("shard", shard);
  }
}

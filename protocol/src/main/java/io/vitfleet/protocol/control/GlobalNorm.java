package io.vitfleet.protocol.control;

/**
 * Coordinator -> shards: the global gradient norm, the square root of the partials summed in shard order, for
 * clipping (protocol step 4). A non-finite norm is carried as is: the optimizer decides what to do with it.
 */
public record GlobalNorm(long jobId, long step, int planVersion, double norm) implements StepMessage {
  public GlobalNorm {
    Checks.stepAndPlan(step, planVersion);
  }
}

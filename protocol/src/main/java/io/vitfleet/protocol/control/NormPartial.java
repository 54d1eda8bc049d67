package io.vitfleet.protocol.control;

/** Shard -> coordinator: the squared L2 norm of the summed gradients of this shard's chunks (protocol step 4). */
public record NormPartial(long jobId, long step, int planVersion, int shard, double squaredNorm)
    implements StepMessage {
  public NormPartial {
    Checks.stepAndPlan(step, planVersion);
    Checks.nonNegative("shard", shard);
  }
}

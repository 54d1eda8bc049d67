package io.vitfleet.protocol.control;

/**
 * Worker -> coordinator and shards: every frame of accumulation group {@code group}'s weight-gradient sum has been
 * sent over the data plane (protocol step 3). A shard missing a group it was told of can then fail the step quickly.
 */
public record GroupSumReady(long jobId, long step, int planVersion, int group, String workerId)
    implements StepMessage {
  public GroupSumReady {
    Checks.stepAndPlan(step, planVersion);
    Checks.nonNegative("group", group);
    Checks.named("workerId", workerId);
  }
}

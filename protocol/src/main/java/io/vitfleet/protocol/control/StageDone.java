package io.vitfleet.protocol.control;

/**
 * Worker -> coordinator: this worker has sent every group sum of its stage for the step (protocol step 3), with its
 * metrics. The last stage carries the loss summed over its microbatches (each microbatch's loss is already divided
 * by the global batch, so the step's loss is the sum over all last-stage workers).
 */
public record StageDone(long jobId, long step, int planVersion, String workerId, int replica, int stage,
                        double lossSum, int microbatches, double seconds) implements StepMessage {
  public StageDone {
    Checks.stepAndPlan(step, planVersion);
    Checks.named("workerId", workerId);
  }
}

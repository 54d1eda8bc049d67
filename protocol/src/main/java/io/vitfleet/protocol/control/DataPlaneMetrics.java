package io.vitfleet.protocol.control;

/**
 * Member -> coordinator, with each heartbeat: frames its data plane dropped so far (bad CRC, unknown job, stale plan,
 * ...), in total and by reason, so they show in the job's metrics. Dropped frames are never applied.
 */
public record DataPlaneMetrics(long jobId, String memberId, long dropped, String byReason) implements ControlMessage {
  public DataPlaneMetrics {
    Checks.named("memberId", memberId);
    Checks.nonNegative("dropped", dropped);
  }
}

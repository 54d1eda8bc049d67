package io.vitfleet.protocol.control;

/** Member -> coordinator: plan {@code planVersion} is installed here; steps under it may begin. */
public record Ready(long jobId, int planVersion, String memberId) implements ControlMessage {
  public Ready {
    Checks.nonNegative("planVersion", planVersion);
    Checks.named("memberId", memberId);
  }
}

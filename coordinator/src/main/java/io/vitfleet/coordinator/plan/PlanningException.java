package io.vitfleet.coordinator.plan;

/**
 * A plan that cannot run on the given workers: the message is one line naming the constraint that fails and what to
 * do about it. {@code vitfleet up} prints it and stops before any process starts; the coordinator logs it when a
 * membership change leaves nothing that fits.
 */
public final class PlanningException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  public PlanningException(String message) {
    super(message);
  }
}

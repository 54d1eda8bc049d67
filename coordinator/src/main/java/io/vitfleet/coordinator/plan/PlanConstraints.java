package io.vitfleet.coordinator.plan;

/**
 * What the operator forced, as {@code vitfleet up --stages P --replicas D} passes it; 0 means the planner chooses.
 *
 * @param stages   the pipeline depth P, or 0
 * @param replicas the data-parallel degree D, or 0
 */
public record PlanConstraints(int stages, int replicas) {
  /** Nothing forced: the planner chooses both. */
  public static final PlanConstraints FREE = new PlanConstraints(0, 0);

  public PlanConstraints {
    if (stages < 0 || replicas < 0) {
      throw new PlanningException("--stages and --replicas must be >= 1 (or absent), got stages=" + stages
          + ", replicas=" + replicas);
    }
  }

  public boolean stagesForced() {
    return stages > 0;
  }

  public boolean replicasForced() {
    return replicas > 0;
  }
}

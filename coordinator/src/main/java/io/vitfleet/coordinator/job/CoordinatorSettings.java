package io.vitfleet.coordinator.job;

import io.vitfleet.coordinator.plan.PlanConstraints;
import io.vitfleet.model.ViTConfig;
import io.vitfleet.protocol.control.JobSpec;
import java.nio.file.Path;
import java.time.Duration;

/**
 * What the coordinator of one job needs: the model and the fixed units of work, how many param-store shards hold the
 * parameters, what the operator asked of the plan, and where to publish the job's status.
 *
 * @param minWorkers workers to wait for before the first plan
 * @param stepTimeout a step not committed within this is aborted and re-run
 * @param statusFile written atomically after every step and membership change ({@code vitfleet status} reads it)
 */
public record CoordinatorSettings(ViTConfig model, JobSpec job, int shards, PlanConstraints requested,
                                  int minWorkers, long totalSteps, Duration stepTimeout, Path statusFile) {
  public CoordinatorSettings {
    if (shards < 1 || minWorkers < 1 || totalSteps < 1) {
      throw new IllegalArgumentException("shards, minWorkers and totalSteps must be >= 1, got " + shards + ", "
          + minWorkers + ", " + totalSteps);
    }
  }

  public long jobId() {
    return job.jobId();
  }
}

package io.vitfleet.protocol.control;

/**
 * A control message that belongs to one job (an {@link Install} or a {@link StepMessage}): a member drops those of
 * any job but its own.
 */
public interface JobScoped {
  /** The job fingerprint. */
  long jobId();
}

package io.vitfleet.protocol.control;

/**
 * The fixed units of work of a job (architecture.md, "Units of work"): global batch B, microbatch size b, so
 * K = B / b microbatches per step, and G accumulation groups of K / G consecutive microbatches. These never change
 * while the job runs; plans do.
 *
 * @param jobId the job fingerprint, carried by every data-plane frame and every shard's meta record
 * @param model the model variant name (e.g. {@code Ti/4})
 * @param dataset the dataset name or path
 */
public record JobSpec(long jobId, String model, String dataset, int globalBatch, int microbatchSize, int groups,
    long seed) implements ControlMessage {
  public JobSpec {
    Checks.named("model", model);
    Checks.named("dataset", dataset);
    Checks.positive("globalBatch", globalBatch);
    Checks.positive("microbatchSize", microbatchSize);
    Checks.positive("groups", groups);
    if (globalBatch % microbatchSize != 0) {
      throw new IllegalArgumentException("globalBatch " + globalBatch + " is not a multiple of microbatchSize "
          + microbatchSize);
    }
    if ((globalBatch / microbatchSize) % groups != 0) {
      throw new IllegalArgumentException((globalBatch / microbatchSize) + " microbatches do not split into "
          + groups + " groups of equal size; choose groups dividing globalBatch / microbatchSize");
    }
  }

  /** K: microbatches per step. */
  public int microbatches() {
    return globalBatch / microbatchSize;
  }
}

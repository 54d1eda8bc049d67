package io.vitfleet.protocol.control;

import java.util.Arrays;

/**
 * Shard -> coordinator: the squared L2 norm of the summed gradient of each tensor the shard owns (protocol step 4),
 * by manifest index. Per tensor, not per shard: the coordinator adds all tensors' values in manifest order, which
 * gives the global norm bit for bit as one process computes it, however the tensors are spread over shards.
 */
public record NormPartial(long jobId, long step, int planVersion, int shard, int[] tensors, double[] squaredNorms)
    implements StepMessage {
  public NormPartial {
    Checks.stepAndPlan(step, planVersion);
    Checks.nonNegative("shard", shard);
    if (tensors == null || squaredNorms == null || tensors.length != squaredNorms.length) {
      throw new IllegalArgumentException("shard " + shard + ": one squared norm per tensor is needed");
    }
    tensors = tensors.clone();
    squaredNorms = squaredNorms.clone();
  }

  @Override
  public int[] tensors() {
    return tensors.clone();
  }

  @Override
  public double[] squaredNorms() {
    return squaredNorms.clone();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof NormPartial n && n.jobId == jobId && n.step == step && n.planVersion == planVersion
        && n.shard == shard && Arrays.equals(n.tensors, tensors) && Arrays.equals(n.squaredNorms, squaredNorms);
  }

  @Override
  public int hashCode() {
    return Long.hashCode(jobId) * 31 + Long.hashCode(step) * 17 + shard * 7 + Arrays.hashCode(tensors);
  }

  @Override
  public String toString() {
    return "NormPartial[step=" + step + ", plan=" + planVersion + ", shard=" + shard + ", tensors="
        + tensors.length + "]";
  }
}

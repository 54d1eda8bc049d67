package io.vitfleet.coordinator.plan;

import io.vitfleet.model.CostModel;
import io.vitfleet.model.LayerCost;
import io.vitfleet.model.ViTConfig;
import java.util.List;
import java.util.Locale;

/**
 * The memory a worker needs to run one pipeline stage, as the planner estimates it against the memory the worker
 * declares. The optimizer state lives on the param-store shards, so a worker holds:
 * <ul>
 *   <li>the fp32 parameters of its stage;</li>
 *   <li>fp32 gradient accumulators, one per group in flight ({@link #GRADIENT_ACCUMULATORS}, at most the groups its
 *       replica owns);</li>
 *   <li>the activations saved for backward ({@link LayerCost#savedBytesPerImage}) of the microbatches in flight
 *       under 1F1B: stage s of P keeps at most P - s, and never more than its replica's microbatches per step;</li>
 *   <li>a fixed runtime overhead ({@link #RUNTIME_OVERHEAD_BYTES}).</li>
 * </ul>
 * Boundary tensors received from and sent to neighbour stages are one layer's output per image, small beside the
 * saved activations, and are covered by the overhead.
 */
public record StageMemory(int stage, long paramBytes, long gradientBytes, int accumulators, long activationBytes,
    int microbatchesInFlight, int microbatchSize, long overheadBytes) {

  /**
   * TensorFlow runtime, JVM heap and Aeron term buffers of a worker process, counted once per stage. Too low and a
   * plan that "fits" runs out of memory; too high and the planner refuses, or deepens, plans that would have run.
   */
  public static final long RUNTIME_OVERHEAD_BYTES = 256L << 20;

  /**
   * Gradient accumulators a worker keeps: one for the group it is computing and one for the previous group's sum
   * while it is sent to the shards. One would halve this memory but stall the pipeline at every group boundary.
   */
  public static final int GRADIENT_ACCUMULATORS = 2;

  /**
   * The estimate for stage {@code stage} of {@code depth}, holding blocks [firstBlock, endBlock), in a replica that
   * processes at most {@code groupsPerReplica} groups of {@code microbatchesPerGroup} microbatches of
   * {@code microbatchSize} images per step.
   */
  public static StageMemory of(ViTConfig c, int stage, int depth, int firstBlock, int endBlock, int microbatchSize,
      int groupsPerReplica, int microbatchesPerGroup) {
    List<LayerCost> layers = CostModel.stageLayers(c, firstBlock, endBlock);
    long params = 0;
    long savedPerImage = 0;
    for (LayerCost l : layers) {
      params += l.params();
      savedPerImage += l.savedBytesPerImage();
    }
    long paramBytes = CostModel.FLOAT_BYTES * params;
    int accumulators = Math.min(GRADIENT_ACCUMULATORS, groupsPerReplica);
    int inFlight = (int) Math.min(depth - stage, (long) groupsPerReplica * microbatchesPerGroup);
    return new StageMemory(stage, paramBytes, paramBytes * accumulators, accumulators,
        savedPerImage * microbatchSize * inFlight, inFlight, microbatchSize, RUNTIME_OVERHEAD_BYTES);
  }

  public long totalBytes() {
    return paramBytes + gradientBytes + activationBytes + overheadBytes;
  }

  /** e.g. {@code 300.1 MiB (params 2.1 MiB, gradients 4.2 MiB for 2 groups, ...)}. */
  public String describe() {
    return bytes(totalBytes()) + " (params " + bytes(paramBytes) + ", gradients " + bytes(gradientBytes) + " for "
        + accumulators + (accumulators == 1 ? " group" : " groups") + ", activations " + bytes(activationBytes)
        + " for " + microbatchesInFlight + " x " + microbatchSize + " images in flight, runtime "
        + bytes(overheadBytes) + ")";
  }

  /** Bytes as MiB below 1 GiB, GiB above, one decimal. */
  public static String bytes(long b) {
    if (b >= 1L << 30) {
      return String.format(Locale.ROOT, "%.1f GiB", b / (double) (1L << 30));
    }
    return String.format(Locale.ROOT, "%.1f MiB", b / (double) (1L << 20));
  }
}

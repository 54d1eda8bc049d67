package io.vitfleet.paramstore.shard;

import io.vitfleet.paramstore.OptimizerConfig;
import io.vitfleet.protocol.ParameterManifest;
import io.vitfleet.protocol.ParameterSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.IntStream;

/**
 * What one parameter-store shard is: which shard of which job, which tensors of the model it owns, where its store
 * lies and how its optimizer runs. Everything a {@link ShardActor} needs besides its peers (coordinator, data plane).
 *
 * @param shard the shard's number; its member id is normally {@code shard-<shard>}
 * @param modelManifest the whole model's manifest: tensor ids on the wire are indices into it
 * @param ownedTensors the model-manifest indices of the tensors this shard owns, ascending: the chunks the plan's
 *     {@code chunkShards} gives this shard ({@link #ownedBy}); an Install that disagrees is refused
 * @param initialParams the whole model's initial flat parameters (manifest order), asked for only when the store is
 *     new; the shard keeps its own slices
 * @param optimizerThreads threads of one optimizer update (whole tensors each; the bits do not depend on it)
 * @param totalSteps the job's steps: a Begin of step {@code totalSteps} or later is refused
 */
public record ShardSettings(int shard, String memberId, long jobId, ParameterManifest modelManifest, int[] ownedTensors,
                            Supplier<float[]> initialParams, OptimizerConfig optimizer, int optimizerThreads,
                            Path storeFile, long totalSteps) {

  public ShardSettings {
    if (shard < 0) {
      throw new IllegalArgumentException("shard must be >= 0, got " + shard);
    }
    if (memberId == null || memberId.isBlank()) {
      throw new IllegalArgumentException("shard " + shard + ": memberId must not be empty");
    }
    if (modelManifest == null || initialParams == null || optimizer == null || storeFile == null) {
      throw new IllegalArgumentException("shard " + shard + ": manifest, initial parameters, optimizer settings and "
          + "store file must all be given");
    }
    ownedTensors = ownedTensors.clone();
    for (int i = 0; i < ownedTensors.length; i++) {
      int t = ownedTensors[i];
      if (t < 0 || t >= modelManifest.count() || (i > 0 && t <= ownedTensors[i - 1])) {
        throw new IllegalArgumentException("shard " + shard + ": owned tensors must be ascending indices of the "
            + modelManifest.count() + "-tensor manifest, got " + Arrays.toString(ownedTensors));
      }
    }
    if (optimizerThreads < 1) {
      throw new IllegalArgumentException("shard " + shard + ": optimizerThreads must be >= 1, got "
          + optimizerThreads);
    }
    if (totalSteps < 0) {
      throw new IllegalArgumentException("shard " + shard + ": totalSteps must be >= 0, got " + totalSteps);
    }
  }

  @Override
  public int[] ownedTensors() {
    return ownedTensors.clone();
  }

  /** The manifest of the tensors this shard owns, in model-manifest order: what its store and optimizer hold. */
  public ParameterManifest shardManifest() {
    return shardManifest(modelManifest, ownedTensors);
  }

  /** The tensors {@code owned} of {@code modelManifest}, in model-manifest order: a shard store's manifest. */
  public static ParameterManifest shardManifest(ParameterManifest modelManifest, int[] owned) {
    List<ParameterSpec> specs = new ArrayList<>(owned.length);
    for (int t : owned) {
      specs.add(modelManifest.get(t));
    }
    return new ParameterManifest(specs);
  }

  /** The chunks (= model-manifest tensors) that {@code chunkShards} gives shard {@code shard}, ascending. */
  public static int[] ownedBy(List<Integer> chunkShards, int shard) {
    return IntStream.range(0, chunkShards.size()).filter(c -> chunkShards.get(c) == shard).toArray();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ShardSettings s && s.shard == shard && s.memberId.equals(memberId) && s.jobId == jobId
        && s.modelManifest.equals(modelManifest) && Arrays.equals(s.ownedTensors, ownedTensors)
        && s.initialParams.equals(initialParams) && s.optimizer.equals(optimizer)
        && s.optimizerThreads == optimizerThreads && s.storeFile.equals(storeFile) && s.totalSteps == totalSteps;
  }

  @Override
  public int hashCode() {
    return (shard * 31 + memberId.hashCode()) * 31 + Arrays.hashCode(ownedTensors);
  }

  @Override
  public String toString() {
    return "ShardSettings[shard=" + shard + ", member=" + memberId + ", job=0x" + Long.toHexString(jobId) + ", tensors="
        + Arrays.toString(ownedTensors) + " of " + modelManifest + ", store=" + storeFile + ", optimizerThreads="
        + optimizerThreads + ", totalSteps=" + totalSteps + "]";
  }
}

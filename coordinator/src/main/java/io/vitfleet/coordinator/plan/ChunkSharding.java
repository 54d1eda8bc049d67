package io.vitfleet.coordinator.plan;

import io.vitfleet.model.CostModel;
import io.vitfleet.protocol.ParameterManifest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Which param-store shard owns each parameter chunk. A chunk is one whole tensor of the manifest (chunk c = manifest
 * entry c), so a tensor's optimizer state — the factored second moments in particular — never straddles two shards.
 *
 * <p>Greedy largest-first: tensors by size descending (manifest index breaks ties), each to the least-loaded shard
 * (lowest shard id breaks ties). Deterministic, and the busiest shard holds at most the mean plus one tensor.
 */
public final class ChunkSharding {
  private ChunkSharding() {
  }

  /** Element c is the shard of chunk c, for {@code shards >= 1}. */
  public static List<Integer> assign(ParameterManifest manifest, int shards) {
    if (shards < 1) {
      throw new PlanningException(shards + " param-store shards: at least 1 is needed (--shards)");
    }
    int n = manifest.count();
    List<Integer> order = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      order.add(i);
    }
    order.sort(Comparator.<Integer>comparingLong(i -> manifest.get(i).size()).reversed()
        .thenComparingInt(i -> i));
    long[] load = new long[shards];
    Integer[] owner = new Integer[n];
    for (int chunk : order) {
      int target = 0;
      for (int s = 1; s < shards; s++) {
        if (load[s] < load[target]) {
          target = s;
        }
      }
      owner[chunk] = target;
      load[target] += CostModel.FLOAT_BYTES * manifest.get(chunk).size();
    }
    return List.of(owner);
  }
}

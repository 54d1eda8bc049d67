package io.vitfleet.coordinator.plan;

import io.vitfleet.model.CostModel;
import io.vitfleet.model.LayerCost;
import io.vitfleet.model.ViTConfig;
import io.vitfleet.protocol.control.Plan.StageLayers;
import java.util.ArrayList;
import java.util.List;

/**
 * Cuts the encoder blocks into P contiguous stages that balance forward FLOPs, stage 0 carrying the embeddings and
 * the last stage the final norm, pooling head and classifier (architecture.md, "The plan").
 *
 * <p>The cut is the linear-partition dynamic programme: among all contiguous partitions into P non-empty ranges it
 * minimises the cost of the most expensive stage (the pipeline's clock), exactly, in O(P n^2) for n blocks. Among
 * equally good cuts it takes the one whose split points are earliest from the end backwards, which puts extra blocks
 * on later stages: stage 0 keeps the most microbatches in flight under 1F1B, so it is the one to keep light.
 */
public final class StagePartition {
  private StagePartition() {
  }

  /** The balanced partition of {@code c}'s blocks into {@code stages} ranges; requires 1 <= stages <= depth. */
  public static List<StageLayers> balanced(ViTConfig c, int stages) {
    int n = c.depth();
    if (stages < 1 || stages > n) {
      throw new PlanningException(stages + " stages for a model of " + n + " blocks: at most " + n + " stages");
    }
    long[] prefix = blockPrefixFlops(c);
    long head = headFlops(c);
    long embedding = embeddingFlops(c);
    long[][] best = new long[stages + 1][n + 1];
    int[][] cut = new int[stages + 1][n + 1];
    for (int e = 1; e <= n; e++) {
      best[1][e] = cost(prefix, embedding, head, n, 0, e);
    }
    for (int p = 2; p <= stages; p++) {
      for (int e = p; e <= n; e++) {
        long bestCost = Long.MAX_VALUE;
        int bestCut = -1;
        for (int f = p - 1; f < e; f++) {
          long m = Math.max(best[p - 1][f], cost(prefix, embedding, head, n, f, e));
          if (m < bestCost) {
            bestCost = m;
            bestCut = f;
          }
        }
        best[p][e] = bestCost;
        cut[p][e] = bestCut;
      }
    }
    int[] ends = new int[stages + 1];
    ends[stages] = n;
    for (int p = stages; p >= 2; p--) {
      ends[p - 1] = cut[p][ends[p]];
    }
    List<StageLayers> out = new ArrayList<>(stages);
    for (int s = 0; s < stages; s++) {
      out.add(new StageLayers(s, ends[s], ends[s + 1]));
    }
    return List.copyOf(out);
  }

  /** Forward FLOPs per image of the stage holding blocks [first, end), with the layers that come with it. */
  public static long stageFlops(ViTConfig c, int first, int end) {
    return CostModel.stageLayers(c, first, end).stream().mapToLong(LayerCost::forwardFlops).sum();
  }

  private static long cost(long[] prefix, long embedding, long head, int n, int first, int end) {
    return prefix[end] - prefix[first] + (first == 0 ? embedding : 0) + (end == n ? head : 0);
  }

  private static long[] blockPrefixFlops(ViTConfig c) {
    long[] prefix = new long[c.depth() + 1];
    int b = 0;
    for (LayerCost l : CostModel.layers(c)) {
      if (l.kind() == LayerCost.Kind.BLOCK) {
        prefix[b + 1] = prefix[b] + l.forwardFlops();
        b++;
      }
    }
    return prefix;
  }

  private static long embeddingFlops(ViTConfig c) {
    return CostModel.layers(c).stream().filter(l -> l.kind() == LayerCost.Kind.EMBEDDING)
        .mapToLong(LayerCost::forwardFlops).sum();
  }

  private static long headFlops(ViTConfig c) {
    return CostModel.layers(c).stream()
        .filter(l -> l.kind() != LayerCost.Kind.EMBEDDING && l.kind() != LayerCost.Kind.BLOCK)
        .mapToLong(LayerCost::forwardFlops).sum();
  }
}

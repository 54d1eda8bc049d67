package io.vitfleet.coordinator.plan;

import io.vitfleet.protocol.control.Plan.ReplicaGroups;
import java.util.ArrayList;
import java.util.List;

/**
 * Deals the G accumulation groups of a step to D replicas round-robin: replica r gets groups r, r + D, r + 2D, ...
 *
 * <p>Round-robin rather than contiguous blocks because the shards sum group sums in group order: with round-robin the
 * sums of groups 0..D-1 arrive first, then D..2D-1, so a shard can reduce as they come and buffers about D group sums;
 * with contiguous blocks group 1 would arrive only after replica 0 finished it, and a shard would buffer about G.
 * D need not divide G: the first G mod D replicas get one group more.
 */
public final class GroupDeal {
  private GroupDeal() {
  }

  /** One entry per replica in replica order; every group 0..G-1 in exactly one, each list ascending. */
  public static List<ReplicaGroups> roundRobin(int groups, int replicas) {
    if (replicas < 1 || replicas > groups) {
      throw new PlanningException(replicas + " replicas but the job has " + groups + " groups: at most " + groups
          + " replicas (D <= G)");
    }
    List<ReplicaGroups> out = new ArrayList<>(replicas);
    for (int r = 0; r < replicas; r++) {
      List<Integer> mine = new ArrayList<>();
      for (int g = r; g < groups; g += replicas) {
        mine.add(g);
      }
      out.add(new ReplicaGroups(r, mine));
    }
    return List.copyOf(out);
  }

  /** Groups of the busiest replica: ceil(G / D). */
  public static int maxGroupsPerReplica(int groups, int replicas) {
    return (groups + replicas - 1) / replicas;
  }
}

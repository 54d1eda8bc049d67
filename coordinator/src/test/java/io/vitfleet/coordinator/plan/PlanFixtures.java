package io.vitfleet.coordinator.plan;

import io.vitfleet.model.ViTConfig;
import io.vitfleet.protocol.control.JobSpec;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.control.WorkerInfo;
import java.util.ArrayList;
import java.util.List;

/** Shared inputs: Ti/4 on 28x28 grey images, and workers with chosen memory and speed. */
final class PlanFixtures {
  static final ViTConfig TI4 = ViTConfig.of("Ti/4", 28, 1, 10);
  static final long PLENTY = 8L << 30;

  private PlanFixtures() {
  }

  /** B = 64, b = 8, so K = 8 microbatches in {@code groups} groups. */
  static JobSpec job(int groups) {
    return new JobSpec(42L, "Ti/4", "fashion-mnist", 64, 8, groups, 1L);
  }

  static WorkerInfo worker(String id, long memory, double gflops) {
    return new WorkerInfo(id, "localhost", memory, gflops, "localhost:" + (40000 + Math.abs(id.hashCode() % 1000)));
  }

  /** w0 .. w{n-1}, all alike. */
  static List<WorkerInfo> workers(int n, long memory) {
    List<WorkerInfo> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(worker("w" + i, memory, 100.0));
    }
    return out;
  }

  /** Groups of all replicas, flattened: each group should appear once. */
  static List<Integer> allGroups(Plan plan) {
    List<Integer> out = new ArrayList<>();
    plan.replicaGroups().forEach(r -> out.addAll(r.groups()));
    out.sort(Integer::compare);
    return out;
  }

  static List<Integer> range(int n) {
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(i);
    }
    return out;
  }

  /** The largest stage of the balanced P-stage cut: memory that fits P stages of D replicas. */
  static long largestStage(Planner planner, int stages, int replicas) {
    return planner.memory(StagePartition.balanced(TI4, stages), replicas).stream()
        .mapToLong(StageMemory::totalBytes).max().orElseThrow();
  }
}

package io.vitfleet.protocol.control;

import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * How a job runs until the next re-plan (architecture.md, "The plan"): pipeline depth P, data-parallel degree D,
 * the encoder blocks of each stage, which worker is which (replica, stage), which shard owns each parameter chunk,
 * and which accumulation groups each replica processes. Plans change only between steps; every data-plane frame
 * carries the version of the plan it was sent under.
 *
 * <p>A plan that does not describe a runnable pipeline is refused when built or decoded, with the reason.
 *
 * @param stages one per stage in stage order; together they cover blocks [0, n) contiguously
 * @param workers exactly one per (replica, stage)
 * @param chunkShards element c is the shard owning parameter chunk c
 * @param replicaGroups one per replica in replica order; each accumulation group belongs to exactly one replica
 */
public record Plan(long jobId, int version, int pipelineDepth, int dataParallel, List<StageLayers> stages,
    List<WorkerAssignment> workers, List<Integer> chunkShards, int microbatchSize, List<ReplicaGroups> replicaGroups)
    implements ControlMessage {

  /** Encoder blocks [firstBlock, endBlock) of one stage; stage 0 also holds the embeddings, the last the head. */
  public record StageLayers(int stage, int firstBlock, int endBlock) {
    public StageLayers {
      Checks.nonNegative("stage", stage);
      Checks.nonNegative("firstBlock", firstBlock);
      if (endBlock < firstBlock) {
        throw new IllegalArgumentException("stage " + stage + ": endBlock " + endBlock + " < firstBlock "
            + firstBlock);
      }
    }
  }

  /** Worker {@code workerId} runs stage {@code stage} of replica {@code replica}. */
  public record WorkerAssignment(String workerId, int replica, int stage) {
    public WorkerAssignment {
      Checks.named("workerId", workerId);
      Checks.nonNegative("replica", replica);
      Checks.nonNegative("stage", stage);
    }
  }

  /** The accumulation groups replica {@code replica} processes, each as a whole, in this order. */
  public record ReplicaGroups(int replica, List<Integer> groups) {
    public ReplicaGroups {
      Checks.nonNegative("replica", replica);
      groups = List.copyOf(groups);
      if (groups.isEmpty()) {
        throw new IllegalArgumentException("replica " + replica + " has no groups; a plan with idle replicas "
            + "should have a smaller dataParallel");
      }
    }
  }

  public Plan {
    Checks.nonNegative("version", version);
    Checks.positive("pipelineDepth", pipelineDepth);
    Checks.positive("dataParallel", dataParallel);
    Checks.positive("microbatchSize", microbatchSize);
    stages = List.copyOf(stages);
    workers = List.copyOf(workers);
    chunkShards = List.copyOf(chunkShards);
    replicaGroups = List.copyOf(replicaGroups);
    checkStages(stages, pipelineDepth);
    checkWorkers(workers, pipelineDepth, dataParallel);
    for (int c = 0; c < chunkShards.size(); c++) {
      Checks.nonNegative("shard of chunk " + c, chunkShards.get(c));
    }
    checkGroups(replicaGroups, dataParallel);
  }

  /** The worker assigned to (replica, stage). */
  public String workerOf(int replica, int stage) {
    for (WorkerAssignment w : workers) {
      if (w.replica() == replica && w.stage() == stage) {
        return w.workerId();
      }
    }
    throw new IllegalArgumentException("plan " + version + " has no worker for replica " + replica + ", stage "
        + stage + " (P=" + pipelineDepth + ", D=" + dataParallel + ")");
  }

  private static void checkStages(List<StageLayers> stages, int depth) {
    if (stages.size() != depth) {
      throw new IllegalArgumentException("pipelineDepth " + depth + " but " + stages.size() + " stage ranges");
    }
    int expectedFirst = 0;
    for (int s = 0; s < depth; s++) {
      StageLayers l = stages.get(s);
      if (l.stage() != s || l.firstBlock() != expectedFirst) {
        throw new IllegalArgumentException("stage ranges must be listed in stage order and be contiguous from "
            + "block 0: entry " + s + " is " + l + ", expected stage " + s + " starting at block " + expectedFirst);
      }
      expectedFirst = l.endBlock();
    }
  }

  private static void checkWorkers(List<WorkerAssignment> workers, int depth, int replicas) {
    Set<String> ids = new HashSet<>();
    boolean[] covered = new boolean[depth * replicas];
    for (WorkerAssignment w : workers) {
      if (w.replica() >= replicas || w.stage() >= depth) {
        throw new IllegalArgumentException("worker " + w.workerId() + " is assigned to replica " + w.replica()
            + ", stage " + w.stage() + " outside D=" + replicas + ", P=" + depth);
      }
      if (!ids.add(w.workerId())) {
        throw new IllegalArgumentException("worker " + w.workerId() + " is assigned twice");
      }
      int cell = w.replica() * depth + w.stage();
      if (covered[cell]) {
        throw new IllegalArgumentException("replica " + w.replica() + ", stage " + w.stage()
            + " has two workers");
      }
      covered[cell] = true;
    }
    if (workers.size() != depth * replicas) {
      throw new IllegalArgumentException("P=" + depth + " x D=" + replicas + " needs " + depth * replicas
          + " workers, the plan assigns " + workers.size());
    }
  }

  private static void checkGroups(List<ReplicaGroups> replicaGroups, int replicas) {
    if (replicaGroups.size() != replicas) {
      throw new IllegalArgumentException("dataParallel " + replicas + " but groups for " + replicaGroups.size()
          + " replicas");
    }
    Set<Integer> seen = new HashSet<>();
    for (int r = 0; r < replicas; r++) {
      ReplicaGroups g = replicaGroups.get(r);
      if (g.replica() != r) {
        throw new IllegalArgumentException("replica groups must be listed in replica order: entry " + r
            + " is for replica " + g.replica());
      }
      for (int group : g.groups()) {
        if (group < 0 || !seen.add(group)) {
          throw new IllegalArgumentException("group " + group + " of replica " + r
              + " is negative or belongs to two replicas");
        }
      }
    }
  }
}

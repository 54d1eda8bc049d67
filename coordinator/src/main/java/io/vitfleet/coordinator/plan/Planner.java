package io.vitfleet.coordinator.plan;

import io.vitfleet.model.ViTConfig;
import io.vitfleet.model.ViTParameters;
import io.vitfleet.protocol.control.JobSpec;
import io.vitfleet.protocol.control.Plan;
import io.vitfleet.protocol.control.Plan.StageLayers;
import io.vitfleet.protocol.control.WorkerInfo;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Chooses how a job runs on the workers it has (architecture.md, "The plan"): pipeline depth P, data-parallel degree
 * D, the blocks of each stage, which worker runs which (replica, stage), the groups of each replica and the shard of
 * each parameter chunk. Pure: the same model, job, workers and constraints always give the same plan.
 *
 * <p>When not forced: D as large as possible (D <= G, P x D <= workers), then P as small as possible, such that every
 * stage fits the memory of its worker ({@link StageMemory}). Data parallelism first because replicas cost no pipeline
 * bubble and exchange nothing but group sums; a deeper pipeline is what the planner reaches for when a stage does not
 * fit. Blocks are cut by {@link StagePartition}, groups dealt by {@link GroupDeal}, workers placed by
 * {@link WorkerPlacement}, chunks sharded by {@link ChunkSharding}. Workers beyond P x D stay idle as spares.
 *
 * <p>Impossible requests are refused with a {@link PlanningException} before anything starts.
 */
public final class Planner {
  private static final String MEMORY_ADVICE = "give the workers more memory, add workers for a deeper pipeline, "
      + "or lower the microbatch size";

  private final ViTConfig model;
  private final JobSpec job;
  private final List<Integer> chunkShards;

  /** A planner for {@code job} on {@code model}, whose parameter chunks go to {@code shards} param-store shards. */
  public Planner(ViTConfig model, JobSpec job, int shards) {
    this.model = model;
    this.job = job;
    this.chunkShards = ChunkSharding.assign(ViTParameters.manifest(model), shards);
  }

  /** The plan numbered {@code version} for these workers, or a {@link PlanningException} saying why none fits. */
  public Plan plan(List<WorkerInfo> workers, PlanConstraints constraints, int version) {
    List<WorkerInfo> byId = sortedById(workers);
    int n = byId.size();
    int depth = model.depth();
    int groups = job.groups();
    checkRequest(constraints, n, depth, groups);
    WorkerPlacement.Misfit lastMisfit = null;
    int lastP = 0;
    int lastD = 0;
    int maxD = constraints.replicasForced() ? constraints.replicas() : Math.min(groups, n);
    int minD = constraints.replicasForced() ? constraints.replicas() : 1;
    for (int d = maxD; d >= minD; d--) {
      int maxP = constraints.stagesForced() ? constraints.stages() : Math.min(depth, n / d);
      int minP = constraints.stagesForced() ? constraints.stages() : 1;
      for (int p = minP; p <= maxP; p++) {
        if (p * d > n) {
          continue;
        }
        List<StageLayers> stages = StagePartition.balanced(model, p);
        List<StageMemory> memory = memory(stages, d);
        WorkerPlacement.Misfit misfit = WorkerPlacement.misfit(memory, d, byId);
        if (misfit == null) {
          return new Plan(job.jobId(), version, p, d, stages,
              WorkerPlacement.place(memory, flops(stages), d, byId), chunkShards, job.microbatchSize(),
              GroupDeal.roundRobin(groups, d));
        }
        lastMisfit = misfit;
        lastP = p;
        lastD = d;
      }
    }
    throw new PlanningException("stage " + lastMisfit.need().stage() + " of P=" + lastP + ", D=" + lastD
        + " needs " + lastMisfit.need().describe() + " but worker " + lastMisfit.worker().workerId()
        + " declares " + StageMemory.bytes(lastMisfit.worker().declaredMemoryBytes()) + ": " + MEMORY_ADVICE);
  }

  /** The memory estimate of each stage of a cut, for a plan with {@code replicas} replicas. */
  public List<StageMemory> memory(List<StageLayers> stages, int replicas) {
    int groupsPerReplica = GroupDeal.maxGroupsPerReplica(job.groups(), replicas);
    int microbatchesPerGroup = job.microbatches() / job.groups();
    List<StageMemory> out = new ArrayList<>(stages.size());
    for (StageLayers s : stages) {
      out.add(StageMemory.of(model, s.stage(), stages.size(), s.firstBlock(), s.endBlock(), job.microbatchSize(),
          groupsPerReplica, microbatchesPerGroup));
    }
    return List.copyOf(out);
  }

  private void checkRequest(PlanConstraints c, int n, int depth, int groups) {
    if (n == 0) {
      throw new PlanningException("no workers to plan on: start at least one worker (--workers)");
    }
    if (c.stages() > depth) {
      throw new PlanningException(c.stages() + " stages for a model of " + depth + " blocks: at most " + depth
          + " stages");
    }
    if (c.replicas() > groups) {
      throw new PlanningException(c.replicas() + " replicas but the job has " + groups + " groups: at most "
          + groups + " replicas (D <= G)");
    }
    if (c.stagesForced() && c.replicasForced() && c.stages() * c.replicas() > n) {
      throw new PlanningException(workers(n) + " for P=" + c.stages() + " x D=" + c.replicas() + " = "
          + c.stages() * c.replicas() + ": add workers or lower --stages or --replicas");
    }
    if (c.stagesForced() && c.stages() > n) {
      throw new PlanningException(workers(n) + " for P=" + c.stages() + " stages: each stage needs its own worker; "
          + "add workers or lower --stages");
    }
    if (c.replicasForced() && c.replicas() > n) {
      throw new PlanningException(workers(n) + " for D=" + c.replicas() + " replicas: each replica needs at least "
          + "one worker; add workers or lower --replicas");
    }
  }

  private long[] flops(List<StageLayers> stages) {
    long[] out = new long[stages.size()];
    for (StageLayers s : stages) {
      out[s.stage()] = StagePartition.stageFlops(model, s.firstBlock(), s.endBlock());
    }
    return out;
  }

  static String workers(int n) {
    return n + (n == 1 ? " worker" : " workers");
  }

  private static List<WorkerInfo> sortedById(List<WorkerInfo> workers) {
    Set<String> ids = new HashSet<>();
    for (WorkerInfo w : workers) {
      if (!ids.add(w.workerId())) {
        throw new PlanningException("worker id " + w.workerId() + " appears twice: every worker needs its own id");
      }
    }
    List<WorkerInfo> out = new ArrayList<>(workers);
    out.sort(Comparator.comparing(WorkerInfo::workerId));
    return List.copyOf(out);
  }
}

package io.vitfleet.protocol.control;

import java.util.List;

/**
 * Coordinator -> every member: use {@code plan} from step {@code step} on, with these data endpoints (one per member
 * the plan involves, feeder and shards included). Members prepare (workers build their stage graph) and answer
 * {@link Ready}; no step of the plan begins before all have.
 *
 * @param stageTensors for each stage of the plan, the manifest indices of the parameter tensors it holds, in manifest
 *     order: what a shard sends to the workers of that stage, and the order of a worker's flat stage buffer
 */
public record Install(long jobId, long step, Plan plan, List<Endpoint> endpoints, List<List<Integer>> stageTensors)
    implements ControlMessage, JobScoped {
  public Install {
    Checks.nonNegative("step", step);
    endpoints = List.copyOf(endpoints);
    stageTensors = stageTensors.stream().map(List::copyOf).toList();
    if (stageTensors.size() != plan.pipelineDepth()) {
      throw new IllegalArgumentException("plan " + plan.version() + " has " + plan.pipelineDepth()
          + " stages but tensors for " + stageTensors.size());
    }
  }

  /** The endpoint of member {@code memberId}. */
  public Endpoint endpointOf(String memberId) {
    for (Endpoint e : endpoints) {
      if (e.memberId().equals(memberId)) {
        return e;
      }
    }
    throw new IllegalArgumentException("plan " + plan.version() + " has no data endpoint for " + memberId);
  }

  /** The data endpoint of the worker running (replica, stage). */
  public Endpoint workerEndpoint(int replica, int stage) {
    return endpointOf(plan.workerOf(replica, stage));
  }

  /** The data endpoint of shard {@code shard}; shards are members {@code shard-0}, {@code shard-1}, ... */
  public Endpoint shardEndpoint(int shard) {
    return endpointOf(shardMemberId(shard));
  }

  /** The member id of shard {@code shard}. */
  public static String shardMemberId(int shard) {
    return "shard-" + shard;
  }
}

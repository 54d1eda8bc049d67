package io.vitfleet.protocol.control;

import org.apache.pekko.actor.typed.ActorRef;

/**
 * Member -> coordinator, on start and every heartbeat after: who it is, where its data plane listens and the actor
 * that takes its control messages. The coordinator watches {@code ref}; a member it has not seen is a join.
 *
 * @param role {@link #WORKER}, {@link #SHARD} or {@link #FEEDER}
 * @param worker what the planner needs of a worker (null for other roles)
 * @param shard a shard's durable state (null for other roles)
 */
public record Hello(long jobId, String memberId, String role, Endpoint endpoint, ActorRef<ControlMessage> ref,
                    WorkerInfo worker, ShardState shard) implements ControlMessage {
  public static final String WORKER = "worker";
  public static final String SHARD = "shard";
  public static final String FEEDER = "feeder";

  public Hello {
    Checks.named("memberId", memberId);
    if (!role.equals(WORKER) && !role.equals(SHARD) && !role.equals(FEEDER)) {
      throw new IllegalArgumentException("unknown member role '" + role + "'");
    }
    if (ref == null || endpoint == null) {
      throw new IllegalArgumentException("member " + memberId + " must name its actor and its data endpoint");
    }
    if (role.equals(WORKER) != (worker != null) || role.equals(SHARD) != (shard != null)) {
      throw new IllegalArgumentException("member " + memberId + " (" + role + ") must carry worker info exactly "
          + "when a worker and shard state exactly when a shard");
    }
  }
}

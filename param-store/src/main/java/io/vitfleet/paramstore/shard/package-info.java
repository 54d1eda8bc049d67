/**
 * The parameter-store shard of the cluster (docs/cluster.md): the member that owns some of the model's tensors,
 * their parameters and optimizer state, and runs their part of each step.
 *
 * <p>Where things are:
 * <ul>
 *   <li>{@link io.vitfleet.paramstore.shard.ShardActor}: the step protocol (Install, Begin, NormPartial, GlobalNorm,
 *       Prepared, Commit, Abort) and the Hello heartbeat;</li>
 *   <li>{@link io.vitfleet.paramstore.shard.ShardSettings}: which shard of which job, which tensors, which store;</li>
 *   <li>{@link io.vitfleet.paramstore.shard.ShardInbox}: the data plane's sink, drained by the actor;</li>
 *   <li>{@code GroupReducer}: the group sums added in group order, bit for bit as one process adds them;</li>
 *   <li>{@code ParameterSender}: the committed parameters streamed to the workers on a thread of their own.</li>
 * </ul>
 * The durable two-slot store it commits into is {@link io.vitfleet.paramstore.store}.
 */
package io.vitfleet.paramstore.shard;

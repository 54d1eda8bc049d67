/**
 * The epoch order of a sharded data set and the exactly-once proofs.
 *
 * <p>{@link io.vitfleet.feeder.order.ShardedEpochOrder} maps (seed, epoch, position) to a sample with read locality
 * (shards in permuted order, samples shuffled within windows of W shards) in O(shards) memory;
 * {@link io.vitfleet.feeder.order.SampleStream} cuts the global stream into steps, microbatches and slots like
 * {@link io.vitfleet.feeder.SampleSchedule}, over any {@link io.vitfleet.feeder.order.EpochPermutation};
 * {@link io.vitfleet.feeder.order.GroupRange} says which groups a replica takes; and
 * {@link io.vitfleet.feeder.order.OrderCheck} checks that an epoch visits each sample exactly once (what
 * {@code vitfleet dataset check-order} runs).
 */
package io.vitfleet.feeder.order;

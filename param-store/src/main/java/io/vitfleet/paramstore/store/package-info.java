/**
 * A parameter-store shard's durable state (spec/architecture.md, "Durability and recovery"): the fp32 parameters
 * and optimizer state of the tensors a shard owns, in one persisted Chronicle Map, with a two-slot commit that
 * survives kill -9 at any instant, even when the map loses the entry that was being written.
 *
 * <p>Where things are:
 * <ul>
 *   <li>{@link io.vitfleet.paramstore.store.ShardStore}: open (and recover), initialise, stage (durably prepared),
 *       commit, abort, read the committed step;</li>
 *   <li>{@code SlotLayout}: which key holds which chunk of which tensor, of the optimizer state, of parity, of the
 *       commit records and of the prepared record;</li>
 *   <li>{@code EntryFrame}: every value's header (kind, slot, step, key, length) and CRC32C;</li>
 *   <li>{@code CommitRecord}: what a commit makes durable, written twice (and once as the prepared record).</li>
 * </ul>
 */
package io.vitfleet.paramstore.store;

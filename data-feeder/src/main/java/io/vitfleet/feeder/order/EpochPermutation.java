package io.vitfleet.feeder.order;

import io.vitfleet.feeder.EpochOrder;

/**
 * An epoch order seen from outside: for every (seed, epoch), {@link #index} is a permutation of [0, {@link #size})
 * and {@link #position} its inverse, both pure functions of their arguments. {@link SampleStream} slices the global
 * stream from any implementation, so the trainer's units of work do not care whether the order is the plain Feistel
 * shuffle ({@link #feistel}) or the shard-local {@link ShardedEpochOrder}.
 */
public interface EpochPermutation {

  /** N: the number of samples in one epoch. */
  long size();

  /** The sample at {@code position} (in [0, N)) of epoch {@code epoch} under {@code seed}. */
  long index(long seed, long epoch, long position);

  /** The position of sample {@code index} (in [0, N)) in epoch {@code epoch} under {@code seed}. */
  long position(long seed, long epoch, long index);

  /** The original whole-data-set shuffle, {@link EpochOrder}, with its pinned values unchanged. */
  static EpochPermutation feistel(long size) {
    EpochOrder order = new EpochOrder(size);
    return new EpochPermutation() {
      @Override
      public long size() {
        return order.size();
      }

      @Override
      public long index(long seed, long epoch, long position) {
        return order.index(seed, epoch, position);
      }

      @Override
      public long position(long seed, long epoch, long index) {
        return order.position(seed, epoch, index);
      }

      @Override
      public String toString() {
        return "EpochOrder[N=" + order.size() + "]";
      }
    };
  }
}

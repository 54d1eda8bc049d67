package io.vitfleet.protocol.control;

/**
 * A shard's durable position, from its store: the committed step, and the step staged and voted prepared but not
 * yet committed ({@link #NONE} if none). After a crash the coordinator decides from these: if any shard committed
 * t + 1, every shard prepared for t + 1 commits it; otherwise t + 1 is dropped everywhere.
 */
public record ShardState(int shard, long committedStep, long preparedStep) {
  public static final long NONE = -1;

  public ShardState {
    Checks.nonNegative("shard", shard);
    if (committedStep < NONE || preparedStep < NONE) {
      throw new IllegalArgumentException("shard " + shard + ": steps must be >= -1");
    }
  }
}
